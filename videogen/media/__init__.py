"""FFmpeg/Pillow media layer: storyboard frames, clips, assembly, exports.

Pure Python on top of the FFmpeg binary from ``imageio-ffmpeg`` and Pillow; no Django
imports, so it can be used and tested on its own (``pytest tests/media -p no:django``).

Modules: ``ffmpeg`` (run/probe, ``MediaError``), ``frames`` (platform sizes, storyboard
images), ``clips`` (image -> Ken-Burns clip), ``assemble`` (final MP4), ``exports``
(GIF/WebM/thumbnail). Nothing is re-exported here on purpose: ``videogen.media.assemble``
must stay the module (a same-named function re-export would shadow it for
``import ... as`` and ``mock.patch`` paths).
"""

"""Live job updates: Server-Sent Events streams and the notifications that wake them.

- `snapshots`: the job document recorded with every status change (replays, callbacks).
- `notify`: the `job_changed` receiver that publishes a change (Redis pub/sub or PostgreSQL NOTIFY).
- `hub`: one listener per serving process that fans changes out to that process's open streams.
- `views`: `GET /api/v2/jobs/{id}/events`, the async view that serves a stream.
"""

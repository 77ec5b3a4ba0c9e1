"""Scene planning: a brief, its duration and its brand context in; the ad's scenes out.

Two planners share one result type (`Plan`): the rules planner (offline, instant, the default
without a Replicate token) and the LLM planner (a Llama 3 model on Replicate, asked for JSON).
Which one plans a job is recorded on the job (`VideoJob.planner`).
"""

from __future__ import annotations

from django.conf import settings

from videogen.planning.base import MAX_SCENES, MIN_SCENES, ROLES, Plan, PlannedScene
from videogen.planning.rules import RulesPlanner
from videogen.providers.base import Provider

__all__ = ["MAX_SCENES", "MIN_SCENES", "ROLES", "Plan", "PlannedScene", "RulesPlanner", "planner_for"]


def planner_for(provider: Provider) -> str:
    """"llm" when the provider has a language model and the rules planner is not forced, else "rules"."""
    if settings.VIDEOGEN_PLANNER == "rules" or not provider.planner_model():
        return "rules"
    return "llm"

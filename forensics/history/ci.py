"""The CI job a run came from, read from the variables its CI system sets.

GitHub Actions, GitLab CI, Cloud Build, Jenkins and Buildkite each name the commit, the branch
and the job in their own variables; ``ci_facts`` reads them into one ``CiFacts``. Only these named
variables are read: nothing else of the environment (tokens, keys) reaches the history.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CiFacts:
    """Where a run came from; every field None when unknown (a run on a laptop)."""

    provider: str | None = None  # "github", "gitlab", "cloudbuild", "jenkins", "buildkite"
    commit: str | None = None  # full commit SHA
    branch: str | None = None
    job_url: str | None = None  # the page of the job or build
    build: str | None = None  # the CI's own id of the run (run id, pipeline, build number)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CiFacts:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def _github(env: Mapping[str, str]) -> CiFacts:
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repo, run = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    url = f"{server}/{repo}/actions/runs/{run}" if repo and run else None
    attempt = env.get("GITHUB_RUN_ATTEMPT")
    if url and attempt and attempt != "1":
        url += f"/attempts/{attempt}"
    return CiFacts(
        provider="github",
        commit=env.get("GITHUB_SHA"),
        # a pull request's own branch is GITHUB_HEAD_REF; GITHUB_REF_NAME is then "123/merge"
        branch=env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME"),
        job_url=url,
        build=run,
    )


def _gitlab(env: Mapping[str, str]) -> CiFacts:
    return CiFacts(
        provider="gitlab",
        commit=env.get("CI_COMMIT_SHA"),
        branch=env.get("CI_COMMIT_BRANCH")
        or env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        or env.get("CI_COMMIT_REF_NAME"),
        job_url=env.get("CI_JOB_URL"),
        build=env.get("CI_PIPELINE_ID") or env.get("CI_JOB_ID"),
    )


def _cloudbuild(env: Mapping[str, str]) -> CiFacts:
    build, project = env.get("BUILD_ID"), env.get("PROJECT_ID")
    region = env.get("LOCATION") or "global"
    url = (
        f"https://console.cloud.google.com/cloud-build/builds;region={region}/{build}?project={project}"
        if build and project
        else None
    )
    return CiFacts(
        provider="cloudbuild",
        commit=env.get("COMMIT_SHA"),
        branch=env.get("BRANCH_NAME"),
        job_url=url,
        build=build,
    )


def _jenkins(env: Mapping[str, str]) -> CiFacts:
    branch = env.get("BRANCH_NAME") or env.get("GIT_BRANCH")
    if branch and branch.startswith("origin/"):
        branch = branch.removeprefix("origin/")
    return CiFacts(
        provider="jenkins",
        commit=env.get("GIT_COMMIT"),
        branch=branch,
        job_url=env.get("BUILD_URL"),
        build=env.get("BUILD_TAG") or env.get("BUILD_NUMBER"),
    )


def _buildkite(env: Mapping[str, str]) -> CiFacts:
    url, job = env.get("BUILDKITE_BUILD_URL"), env.get("BUILDKITE_JOB_ID")
    return CiFacts(
        provider="buildkite",
        commit=env.get("BUILDKITE_COMMIT"),
        branch=env.get("BUILDKITE_BRANCH"),
        job_url=f"{url}#{job}" if url and job else url,
        build=env.get("BUILDKITE_BUILD_NUMBER"),
    )


#: (how to recognise the CI system, how to read it), in the order they are tried.
PROVIDERS: tuple[
    tuple[Callable[[Mapping[str, str]], bool], Callable[[Mapping[str, str]], CiFacts]], ...
] = (
    (lambda env: env.get("GITHUB_ACTIONS") == "true", _github),
    (lambda env: env.get("GITLAB_CI") == "true", _gitlab),
    (lambda env: env.get("BUILDKITE") == "true", _buildkite),
    (lambda env: bool(env.get("JENKINS_URL") or env.get("JENKINS_HOME")), _jenkins),
    # Cloud Build sets no marker variable: its build id and project, passed to the step, are it
    (lambda env: bool(env.get("BUILD_ID") and env.get("PROJECT_ID")), _cloudbuild),
)


def ci_facts(environ: Mapping[str, str] | None = None) -> CiFacts:
    """The CI facts of ``environ`` (default: this process's environment); empty outside CI.

    Args:
        environ: the variables to read, e.g. a job's environment saved as JSON.

    Returns:
        The first CI system recognised, with empty values left out (None).
    """
    env = os.environ if environ is None else environ
    for recognised, read in PROVIDERS:
        if recognised(env):
            found = read(env)
            return CiFacts(**{k: (v or None) for k, v in asdict(found).items()})
    return CiFacts()

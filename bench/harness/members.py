"""Bench members of a running site: signed up (or logged in) through the HTML forms, as a
browser does, and their votes cast over the JSON API."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from . import tables
from .report import log

PASSWORD = "loadbench-password-1"


@dataclass
class Member:
    username: str
    session: str
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        """What a logged-in browser sends with a JSON write."""
        return {"Cookie": f"pf_session={self.session}; pf_csrf={self.csrf}",
                "X-CSRF-Token": self.csrf}


def sign_in(url: str, username: str, exists: bool) -> Member:
    """Log in (or sign up) through the forms; the session and CSRF cookies."""
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        form = "/login" if exists else "/signup"
        client.get(form).raise_for_status()
        data = {"csrf_token": client.cookies["pf_csrf"], "next": "/", "password": PASSWORD}
        if exists:
            data["login"] = username
        else:
            data |= {"username": username, "email": f"{username}@bench.invalid"}
        response = client.post(form, data=data)
        if response.status_code != 303 or "pf_session" not in response.cookies:
            raise RuntimeError(f"POST {form} as {username}: {response.status_code} "
                               f"{response.text[:300]}")
        return Member(username, response.cookies["pf_session"], response.cookies["pf_csrf"])


def sign_in_all(url: str, home: Path, prefix: str, n: int) -> list[Member]:
    """Members `prefix`00 .. `prefix`NN, signing up those the data dir does not know yet."""
    names = [f"{prefix}{i:02d}" for i in range(n)]
    known = tables.members_named(home, prefix)
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        members = list(pool.map(lambda name: sign_in(url, name, name in known), names))
    log(f"{len(members)} members signed in ({len(set(names) - known)} new) in "
        f"{time.perf_counter() - started:.1f}s")
    return members


def upvote_plan(team: list[Member], pool: list[str], per_member: int, rng: random.Random
                ) -> list[tuple[Member, str]]:
    """(member, paper id): each member upvotes `per_member` distinct papers of `pool`, drawn
    with power-law weights in a shuffled order, so a few papers get far more votes."""
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(pool))]
    rng.shuffle(weights)
    plan: list[tuple[Member, str]] = []
    for member in team:
        chosen: set[str] = set()
        while len(chosen) < min(per_member, len(pool)):
            chosen.update(rng.choices(pool, weights, k=per_member - len(chosen)))
        plan.extend((member, paper_id) for paper_id in sorted(chosen))
    return plan


def upvote(url: str, votes: list[tuple[Member, str]]) -> list[int]:
    """Each (member, paper id) upvote over the API, 8 at a time; the status codes."""
    def vote(item: tuple[Member, str]) -> int:
        member, paper_id = item
        return httpx.post(f"{url}/api/papers/{quote(paper_id)}/vote?up=true",
                          headers=member.headers, timeout=60, trust_env=False).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(vote, votes))

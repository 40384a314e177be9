# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pair-wide reading of gr_status results (the health gate's assertions)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: gr_pair_problems
short_description: What is wrong with a Group Replication group, from every member's gr_status result
version_added: 0.1.0
description:
  - Takes a dict of inventory host to that host's registered M(hapair.stack.gr_status) result and
    returns one sentence per problem; an empty list means exactly one ONLINE PRIMARY and every
    member healthy.
positional: _input
options:
  _input:
    description: Inventory host to its gr_status result (a failed result carries C(msg)).
    type: dict
    required: true
"""

EXAMPLES = r"""
problems: "{{ dict(hosts | zip(hosts | map('extract', hostvars, 'gr'))) | hapair.stack.gr_pair_problems }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem.
  type: list
  elements: str
"""


def gr_pair_problems(results):
    problems = []
    primaries = set()
    for host in sorted(results):
        result = results[host] or {}
        if result.get("failed") or "healthy" not in result:
            problems.append(f"{host}: {result.get('msg', 'gr_status did not run')}")
            continue
        if not result["healthy"]:
            problems.append(f"{host}: {'; '.join(result.get('reasons') or [])}")
        if result.get("state") == "ONLINE" and result.get("primary"):
            primaries.add(result["primary"]["id"])
        if result.get("role") == "PRIMARY" and result.get("state") == "ONLINE":
            primaries.add(result.get("server_uuid"))
    if len(primaries) != 1:
        problems.append(f"the members report {len(primaries)} different ONLINE PRIMARY members, expected exactly 1")
    return problems


class FilterModule:
    def filters(self):
        return {"gr_pair_problems": gr_pair_problems}

# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pair-wide checks over hapair.stack.vip_status results."""

from __future__ import annotations

from ansible_collections.hapair.stack.plugins.module_utils.vip import pair_problems

DOCUMENTATION = r"""
name: vip_pair_problems
short_description: What is wrong with a pair's virtual IPs, from vip_status results
version_added: 0.2.0
description:
  - Takes a mapping of host to the result of M(hapair.stack.vip_status) on
    that host and returns a message per problem - a VIP held by no node or
    by both, a holder that is not MASTER, keepalived not running, an instance
    in FAULT. An empty list means the pair is well.
positional: _input
options:
  _input:
    description: Mapping of inventory host name to its vip_status result.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the pair
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ {'ha1': ha1_result, 'ha2': ha2_result} | hapair.stack.vip_pair_problems }}"
"""

RETURN = r"""
_value:
  description: One message per problem, naming the host and the VIP.
  type: list
  elements: str
"""


class FilterModule:
    """VIP filters."""

    def filters(self):
        return {"vip_pair_problems": pair_problems}

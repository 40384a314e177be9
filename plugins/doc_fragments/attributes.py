# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attribute documentation shared by the collection's modules."""

from __future__ import annotations


class ModuleDocFragment:
    """Attributes blocks, one per kind of module.

    Only READ_ONLY exists, so a module names it explicitly
    (hapair.stack.attributes.read_only): a module that changes things
    (kafka_topics) documents its own attributes, because what check mode and
    a second run do is its own.
    """

    # The status modules (gr_status, kafka_search, kafka_status, vip_status):
    # they only read, so check mode and a second run behave like the first.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  idempotent:
    support: full
    description: Reading state twice changes nothing.
"""

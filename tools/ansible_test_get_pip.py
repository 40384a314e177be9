#!/usr/bin/env python
"""Stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity test's virtualenv without pip, then runs
get-pip.py from ci-files.testing.ansible.com, which is not reachable here;
it takes a copy from ~/.ansible/test/cache/get_pip_<version>.py when there
is one ("The bootstrap script can be manually downloaded and saved to").
This script is that copy: it bootstraps pip with the standard library's
ensurepip, then has pip install what ansible-test asked for (pip at its
pinned version, from PyPI).

    ansible_test_get_pip.py --install-cache   put this file where ansible-test looks
    ansible_test_get_pip.py [OPTIONS] PACKAGES run by ansible-test inside a venv
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# get-pip.py options that pip install does not know.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def install_cache() -> int:
    from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

    class Python:  # only the version is read
        version = f"{sys.version_info.major}.{sys.version_info.minor}"

    version = get_venv_packages(Python())["pip"]
    target = os.path.expanduser(f"~/.ansible/test/cache/get_pip_{version.replace('.', '_')}.py")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(__file__, target)
    print(f"{target}: pip {version} bootstrap for ansible-test (ensurepip, then pip from PyPI)")
    return 0


def bootstrap(args: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    pip_args = [a for a in args if a not in GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *pip_args])


if __name__ == "__main__":
    if sys.argv[1:] == ["--install-cache"]:
        sys.exit(install_cache())
    sys.exit(bootstrap(sys.argv[1:]))

#!/usr/bin/env python
"""The lab's fence device: powers the lab's nodes (Docker containers) off and
on when a node asks, the way a BMC (IPMI, Redfish) or fence_virtd does for
servers and VMs. Lab only: a real pair fences through its servers' BMCs with
Debian's fence agents (mysql_gr_fence_command).

    lab/fence-device.py --listen 172.28.77.1:8099 \\
        --node ha1=hapair-lab-ha1@172.28.77.11 --node ha2=hapair-lab-ha2@172.28.77.12
    lab/fence-device.py --inventory inventories/lab    # the same, read from a lab inventory

    POST /fence/<node>?action=off      kill the node's container; 200 once it is
                                       confirmed stopped
    POST /fence/<node>?action=reboot   the same, then start it again after
                                       --reboot-delay seconds (in the background)
    POST /fence/<node>?action=on       start it
    GET  /fence/<node>                 "on" or "off"

Only the listed nodes' addresses may ask, and never to fence themselves
(a node that asks to fence itself is cut off from its peer, not dead). Every
request goes to stdout as a JSON line (time, from, node, action, result).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()


def docker(*args, timeout=60):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def running(container):
    out = docker("inspect", "--format", "{{.State.Running}}", container)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or "no such container")
    return out.stdout.strip() == "true"


def power_off(container, deadline=30.0):
    """Kills the container; True once Docker reports it stopped."""
    if running(container):
        docker("kill", container)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not running(container):
            return True
        time.sleep(0.1)
    return False


class Device(BaseHTTPRequestHandler):
    nodes = {}       # name -> (container, address)
    reboot_delay = 5.0

    def log_message(self, *_):  # every request is logged as JSON below instead
        pass

    def record(self, node, action, status, result):
        print(json.dumps({"time": round(time.time(), 3), "from": self.client_address[0], "node": node,
                          "action": action, "status": status, "result": result}), flush=True)

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def target(self):
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "fence" or parts[1] not in self.nodes:
            return None, None, "unknown node (known: %s)" % ", ".join(sorted(self.nodes))
        action = parse_qs(url.query).get("action", ["status"])[0]
        asker = self.client_address[0]
        if asker not in {address for _unused, address in self.nodes.values()}:
            return None, None, "%s is not a node of this device" % asker
        if self.nodes[parts[1]][1] == asker and action != "status":
            return None, None, "a node never fences itself"
        return parts[1], action, None

    def do_GET(self):  # noqa: N802 (http.server's naming)
        node, _unused, problem = self.target()
        if problem:
            self.answer(403 if "fence" in problem else 404, problem)
            return
        state = "on" if running(self.nodes[node][0]) else "off"
        self.answer(200, state)

    def do_POST(self):  # noqa: N802
        node, action, problem = self.target()
        if problem:
            self.record(node, action, 403, problem)
            self.answer(403 if "fence" in problem or "not a node" in problem else 404, problem)
            return
        container = self.nodes[node][0]
        started = time.monotonic()
        with LOCK:
            if action in ("off", "reboot"):
                ok = power_off(container)
                if ok and action == "reboot":
                    threading.Timer(self.reboot_delay, docker, args=("start", container)).start()
                result = "off" if ok else "still running"
            elif action == "on":
                ok = docker("start", container).returncode == 0
                result = "on" if ok else "start failed"
            else:
                self.answer(400, "action must be off, reboot or on")
                return
        status = 200 if ok else 500
        self.record(node, action, status, "%s in %.2f s" % (result, time.monotonic() - started))
        self.answer(status, result)


def from_inventory(source, port):
    """--listen and --node values of a lab inventory: its gateway, and every
    pair node (the witness is never fenced)."""
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    command = beside if os.path.exists(beside) else "ansible-inventory"
    out = subprocess.run([command, "--inventory", source, "--list"],
                         capture_output=True, text=True, check=True).stdout
    inventory = json.loads(out)
    hostvars = inventory["_meta"]["hostvars"]
    pairs = {hv["hapair_pair_group"] for hv in hostvars.values() if "hapair_pair_group" in hv}
    nodes = ["%s=%s@%s" % (host, hostvars[host]["ansible_host"], hostvars[host]["hapair_node_address"])
             for pair in sorted(pairs) for host in inventory.get(pair, {}).get("hosts", [])]
    gateway = next(hv["hapair_lab_gateway"] for hv in hostvars.values() if "hapair_lab_gateway" in hv)
    return "%s:%d" % (gateway, port), nodes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--listen", help="address:port to listen on (the lab network's gateway)")
    parser.add_argument("--node", action="append", default=[], metavar="NAME=CONTAINER@ADDRESS")
    parser.add_argument("--inventory", help="a lab inventory to read --listen and --node from")
    parser.add_argument("--port", type=int, default=8099, help="port, with --inventory")
    parser.add_argument("--reboot-delay", type=float, default=5.0, help="seconds between off and on in a reboot")
    args = parser.parse_args(argv)
    if args.inventory:
        args.listen, args.node = from_inventory(args.inventory, args.port)
    if not args.listen or not args.node:
        parser.error("give --inventory, or --listen and at least one --node")
    for spec in args.node:
        name, _sep, rest = spec.partition("=")
        container, _sep, address = rest.partition("@")
        if not (name and container and address):
            parser.error("--node takes NAME=CONTAINER@ADDRESS, got %r" % spec)
        Device.nodes[name] = (container, address)
    Device.reboot_delay = args.reboot_delay
    host, _sep, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), Device)
    print(json.dumps({"time": round(time.time(), 3), "listening": args.listen, "nodes": sorted(Device.nodes)}),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

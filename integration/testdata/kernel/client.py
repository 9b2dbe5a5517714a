"""Drives pirun's Jupyter kernel with jupyter_client, as a notebook would.

Run by integration/kernel_test.go with JUPYTER_PATH naming the folder that
"pirun kernel install --prefix" wrote. It writes one JSON object: for each
step, what the kernel answered (replies and the iopub messages of the
request), into the file named by its argument. The Go test checks them.
"""

import json
import sys
import time

from jupyter_client.manager import start_new_kernel

TIMEOUT = 120


def run(kc, code, stop_on_error=True):
    """Executes code; returns its reply content and iopub messages."""
    outs = []
    reply = kc.execute_interactive(
        code,
        timeout=TIMEOUT,
        stop_on_error=stop_on_error,
        output_hook=lambda m: outs.append({"type": m["msg_type"], "content": m["content"]}),
    )
    return {"reply": reply["content"], "iopub": outs}


def interrupt_spin(km, kc):
    """Runs a remote `while True` and interrupts it once it runs."""
    code = "def spin():\n    while True:\n        pass\nc[:].apply_sync(spin)"
    msg_id = kc.execute(code)
    # the cell is running once its execute_input is out; the engines get
    # the task right after, give them a moment to start looping
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input":
            break
    time.sleep(2)
    started = time.time()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
    return {"reply": reply["content"], "seconds": time.time() - started}


def main():
    km, kc = start_new_kernel(kernel_name="pirun", startup_timeout=TIMEOUT)
    out = {}
    try:
        out["info"] = kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]
        out["map"] = run(kc, "lview = c.load_balanced_view()\nlview.map_sync(lambda x: x * x, range(10))")
        out["print"] = run(kc, 'def hello(x):\n    print("hello from", engine.id)\n    return x\nc[:].apply_sync(hello, 1)')
        out["px"] = run(kc, "%px y = engine.id * 10\n%px y")
        out["fail"] = run(kc, 'x = 1\n\nfail("bad value %d" % x)')
        out["remote_fail"] = run(kc, "def g(n):\n    return n // 0\nc[0].apply_sync(g, 1)")
        out["interrupt"] = interrupt_spin(km, kc)
        out["after_interrupt"] = run(kc, 'c[:].apply_sync(lambda: "alive")')
        out["queue"] = run(kc, "c.queue_status()")
        out["complete"] = kc.complete("c.load_", reply=True, timeout=TIMEOUT)["content"]
        msg_id = kc.is_complete("def f(x):")
        out["is_complete"] = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        msg_id = kc.inspect("c.load_balanced_view", 5)
        out["inspect"] = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        out["before_restart"] = run(kc, "kept = 42\nkept")
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        out["after_restart"] = run(kc, "kept", stop_on_error=False)
        out["after_restart_ok"] = run(kc, "1 + 1")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    out["alive_after_shutdown"] = km.is_alive()
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()

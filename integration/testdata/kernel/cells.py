"""Runs cells on pirun's kernel with jupyter_client: cells.py OUT CELL...

Run by integration/kernel_test.go with JUPYTER_PATH naming the folder that
"pirun kernel install --prefix" wrote. It writes a JSON list to OUT: for
each cell, the execute reply and the iopub messages of the request.
"""

import json
import sys

from jupyter_client.manager import start_new_kernel

TIMEOUT = 120


def main():
    out, cells = sys.argv[1], sys.argv[2:]
    km, kc = start_new_kernel(kernel_name="pirun", startup_timeout=TIMEOUT)
    steps = []
    try:
        for code in cells:
            msgs = []
            reply = kc.execute_interactive(
                code,
                timeout=TIMEOUT,
                output_hook=lambda m: msgs.append({"type": m["msg_type"], "content": m["content"]}),
            )
            steps.append({"reply": reply["content"], "iopub": msgs})
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    with open(out, "w") as f:
        json.dump(steps, f)


if __name__ == "__main__":
    main()

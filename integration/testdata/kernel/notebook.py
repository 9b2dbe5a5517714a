"""Executes a notebook end to end on pirun's kernel with nbclient.

Run by integration/kernel_test.go as: notebook.py OUT NOTEBOOK, with
JUPYTER_PATH naming the folder that "pirun kernel install --prefix" wrote.
It writes the executed notebook to OUT; the Go test checks its outputs.
"""

import os
import sys

import nbformat
from nbclient import NotebookClient


def main():
    out, path = sys.argv[1], sys.argv[2]
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="pirun",
        timeout=300,
        startup_timeout=120,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    client.execute()
    nbformat.write(nb, out)


if __name__ == "__main__":
    main()

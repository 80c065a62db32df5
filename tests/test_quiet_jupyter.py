"""A quiet Jupyter: encrypted kernels that print no transport warning; a lab that asks nothing.

ipykernel (7.3 and newer) warns "Kernel is running over TCP without encryption" on stderr
each time a kernel starts without CurveZMQ keys. The course's ``jupyter-config/`` asks the
kernel manager to provision them (``KernelManager.transport_encryption = "auto"``); these
tests execute a tiny notebook the way ``make course``/``make render`` (``tools/execute.py``)
and ``make test`` (nbval, through ``conftest.py``) do, and check the kernel's own view of
its connection as well as the text printed.

``make lab`` (``tools/lab.py``) is started headless on a free port and asked, through
JupyterLab's REST API, what a first start would do about news and updates.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest
import websocket
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tools.execute import execute_notebook

ROOT = Path(__file__).resolve().parent.parent
WARNING = "Kernel is running over TCP without encryption"

#: The kernel reports its transport and whether its connection file carries CurveZMQ keys.
CONNECTION_PROBE = (
    "from ipykernel import get_connection_info\n"
    "info = get_connection_info(unpack=True)\n"
    "print(info['transport'], 'curve' if 'curve_publickey' in info else 'plain')"
)
#: The same probe as an assertion, so that nbval fails the cell on a plain connection.
CONNECTION_ASSERTION = CONNECTION_PROBE + "\nassert 'curve_publickey' in info, 'plain TCP'"


def tiny_notebook(path: Path, source: str) -> Path:
    notebook = new_notebook(cells=[new_code_cell(source)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


def test_the_course_runner_starts_encrypted_kernels_that_print_no_warning(tmp_path, capfd):
    result = execute_notebook(tiny_notebook(tmp_path / "probe.ipynb", CONNECTION_PROBE))

    captured = capfd.readouterr()  # the kernel inherits this process's stdout and stderr
    assert result.ok, result.error
    assert result.notebook.cells[0].outputs[0]["text"] == "tcp curve\n"
    assert WARNING not in captured.err + captured.out


def test_without_the_course_configuration_the_same_kernel_warns(tmp_path, capfd):
    """The check above can fail: nbclient's defaults give a plain kernel that warns."""
    notebook = nbformat.read(tiny_notebook(tmp_path / "probe.ipynb", CONNECTION_PROBE), 4)

    NotebookClient(notebook, kernel_name="python3").execute()

    captured = capfd.readouterr()
    assert notebook.cells[0].outputs[0]["text"] == "tcp plain\n"
    assert WARNING in captured.err


def run_nbval(notebook: Path, *plugins: str) -> subprocess.CompletedProcess:
    """``make test``'s notebook options on one notebook outside the repository.

    A notebook outside the repository does not pick up its ``conftest.py``, so the test
    loads it explicitly (``-p conftest``) when it wants the course's rules.
    """
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env"]
    command += ["-p", "no:cacheprovider", *plugins, str(notebook)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RECSYS_LESSONS_DATASET": "synthetic"}
    return subprocess.run(
        command, cwd=notebook.parent, env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_nbval_kernels_run_encrypted_with_the_course_conftest(tmp_path):
    notebook = tiny_notebook(tmp_path / "probe.ipynb", CONNECTION_ASSERTION)

    course = run_nbval(notebook, "-p", "conftest")
    plain = run_nbval(notebook)

    assert course.returncode == 0, course.stdout + course.stderr
    assert WARNING not in course.stdout + course.stderr
    assert plain.returncode == 1 and "plain TCP" in plain.stdout, plain.stdout + plain.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_banner(process: subprocess.Popen, timeout: float = 120) -> str:
    """What ``tools.lab`` prints on standard output up to the end of its block."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Stop it with"):
            break
    return "".join(lines)


def get_json(url: str, post: dict | None = None) -> dict:
    data = None if post is None else json.dumps(post).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def run_in_lab_kernel(server: str, token: str, code: str) -> str:
    """Start a kernel through the lab's REST API, run ``code`` over its websocket, return stdout.

    The same path a notebook tab takes: the server bridges the websocket to the kernel's
    ZMQ sockets (CurveZMQ-encrypted with the course's configuration).
    """
    kernel = get_json(f"{server}/api/kernels?token={token}", post={"name": "python3"})
    session = uuid.uuid4().hex
    channels = f"{server.replace('http', 'ws', 1)}/api/kernels/{kernel['id']}/channels"
    connection = websocket.create_connection(
        f"{channels}?session_id={session}&token={token}", timeout=60
    )
    try:
        message_id = uuid.uuid4().hex
        header = {"msg_id": message_id, "msg_type": "execute_request", "session": session}
        header |= {"username": "test", "date": "", "version": "5.3"}
        content = {"code": code, "silent": False}
        connection.send(
            json.dumps(
                {"header": header, "parent_header": {}, "metadata": {}, "content": content}
                | {"channel": "shell", "buffers": []}
            )
        )
        while True:
            message = json.loads(connection.recv())
            if message["parent_header"].get("msg_id") != message_id:
                continue
            if message["msg_type"] == "stream":
                return message["content"]["text"]
            if message["msg_type"] == "error":
                return "\n".join(message["content"]["traceback"])
    finally:
        connection.close()


@pytest.fixture
def running_lab(tmp_path):
    """``python -m tools.lab --no-browser`` on a free port, stopped with Ctrl+C afterwards.

    Jupyter's own user folders point into ``tmp_path`` so that the machine's settings
    (``~/.jupyter``) cannot hide what the repository ships. Standard input is a terminal
    (a pty), as in ``make lab``, so the server handles Ctrl+C as it would there.
    """
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    terminal, terminal_end = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.lab", "--no-browser", "--port", str(free_port())],
        cwd=ROOT,
        env=environment,
        stdin=terminal_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(terminal)
        os.close(terminal_end)


@pytest.mark.slow
def test_make_lab_prints_one_block_and_a_first_start_asks_nothing(running_lab):
    printed = read_banner(running_lab)
    match = re.search(r"(http://\S+)/lab/tree/README\.md\?token=(\w+)", printed)
    assert match, printed
    server, token = match.groups()
    assert running_lab.poll() is None, running_lab.stderr.read()  # the server is still up
    assert printed.strip().splitlines() == [
        "JupyterLab is running on the course map:",
        f"    {match.group(0)}",
        "Stop it with Ctrl+C in this terminal.",
    ]

    notification = get_json(
        f"{server}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
    )
    defaults = {
        name: spec["default"] for name, spec in notification["schema"]["properties"].items()
    }
    assert notification["settings"] == {}  # nothing chosen by a user: the defaults apply
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    viewers = get_json(
        f"{server}/lab/api/settings/@jupyterlab/docmanager-extension:plugin?token={token}"
    )["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers == {"markdown": "Markdown Preview"}  # the course map opens rendered
    # The server itself fetches no news and checks no version, whatever a user sets later.
    assert get_json(f"{server}/lab/api/news?token={token}") == {"news": []}
    assert get_json(f"{server}/lab/api/update?token={token}") == {"notification": None}
    # A notebook's kernel runs encrypted, and the server's log stays empty.
    assert run_in_lab_kernel(server, token, CONNECTION_PROBE) == "tcp curve\n"

    os.killpg(running_lab.pid, signal.SIGINT)  # Ctrl+C, delivered to the whole group
    assert running_lab.wait(timeout=60) == 0
    log = running_lab.stderr.read()
    assert WARNING not in log and "[W " not in log and "Shutdown this Jupyter server" not in log, (
        log
    )

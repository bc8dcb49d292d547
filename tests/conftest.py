"""Shared fixtures: where the captures are, and the CLI as a function."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from analyzer import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MIP6_AUDIT_CORPUS", ROOT.parent / "shared" / "corpus"))
SAMPLES = ROOT / "samples"


class CliResult:
    def __init__(self, code, out, err):
        self.code = code
        self.out = out
        self.err = err

    @property
    def events(self):
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def of_type(self, event_type):
        return [e for e in self.events if e["event_type"] == event_type]

    def findings(self, code=None):
        return [e for e in self.of_type("finding") if code is None or e["code"] == code]


@pytest.fixture
def run_cli(capsys):
    """Run `mip6-audit ARGS...` in-process; returns exit code, stdout, stderr."""
    def run(*args):
        code = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)
    return run


@pytest.fixture(scope="session")
def corpus_dir():
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not found at %s" % CORPUS)
    return CORPUS

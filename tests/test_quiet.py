"""The standard-error filter for decord's skip-frames chatter: that line goes, everything else stays
(a progress bar's carriage returns, warnings, a failing run's last words)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r'''
import os, sys, time
from ingest import quiet
quiet.install()
os.write(2, b"[21:33:04] /src/video/video_reader.cc:123: Failed to skip frames effectively at frame 40. "
            b"Decoder did not respond after 20 attempts. Video might be corrupted or seeking failed. Aborting skip operation.\n")
os.write(2, b"[###---] 3/27 files\r")
time.sleep(0.1)
os.write(2, b"[21:33:05] /src/video/video_reader.cc:99: a real decoder error\n")
os.write(2, b"[####--] 4/27 files\r")
print("a real warning", file=sys.stderr, flush=True)
raise RuntimeError("last words")
'''


def test_only_the_skip_frames_chatter_is_dropped() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 1
    assert "Failed to skip frames" not in err
    assert "[###---] 3/27 files\r" in err and "[####--] 4/27 files\r" in err
    assert "a real decoder error" in err and "a real warning" in err
    assert "RuntimeError: last words" in err  # the traceback, printed before exit, is not lost

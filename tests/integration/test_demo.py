"""`make demo` (tests/demo/demo.py), issue 14 items 3 and 5: with --duration it stops by itself
(it used to wait a minute for the simulated devices after its duration), and every record of a
device family that has device ids carries one (the demo's routes are config/examples/')."""

import subprocess
import sys

import harness

# A hang guard, not a measurement: the demo used to take its duration plus a minute.
GUARD_S = 40


def test(s: harness.Session) -> None:
    demo = harness.SOURCE_DIR / "tests" / "demo" / "demo.py"
    try:
        run = subprocess.run([sys.executable, str(demo), "--build", str(harness.BIN_DIR),
                              "--duration", "6"], capture_output=True, text=True,
                             timeout=6 + GUARD_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the demo did not stop {GUARD_S} s after its duration: "
                             f"{(e.stdout or b'')[-2000:]!r}") from None
    print(run.stdout[-3000:], run.stderr[-2000:])
    assert run.returncode == 0, run.returncode
    summary = [line for line in run.stdout.splitlines() if "records landed" in line]
    assert summary, "the demo printed no summary of what landed"
    assert summary[0].endswith(("without one: none", "without one: other")), summary[0]


if __name__ == "__main__":
    harness.main(test)

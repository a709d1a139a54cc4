"""Runs README.md's GitHub Actions workflow and pre-commit configuration locally.

The workflow's `run:` steps are executed as written in a scratch git
repository holding the example kernels under src/, with the cudalens checkout
(`path: .cudalens-src`) pointing at this repository. One deviation: the
`cargo install` step gets `--debug` and the workspace's target directory, so
CI reuses the test build instead of a second, release build of the same
sources and lockfile. `uses:` steps cannot run here: checkout is the scratch
repository itself; for upload-sarif the file it names must exist and be the
SARIF the analysis wrote (server/cudalens/tests/ci.rs validates that output
against the SARIF schema).

The pre-commit block is used as .pre-commit-config.yaml with `repo:` pointed
at this repository (at HEAD) and run by pre-commit itself: it fails on a
kernel with a warning (README's args) and passes on a clean one.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.abspath(sys.argv[1])


def block(marker):
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    m = re.search(r"<!-- adoption: %s[^>]*-->\n```yaml\n(.*?)```" % re.escape(marker), text, re.S)
    assert m, f"README.md has no yaml block after <!-- adoption: {marker} -->"
    return yaml.safe_load(m.group(1))


def sh(cmd, cwd, env, check=True):
    print(f"$ {cmd}", flush=True)
    p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True)
    sys.stdout.write(p.stdout[-4000:])
    sys.stdout.write(p.stderr[-4000:])
    if check and p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {cmd}")
    return p


def scratch_repo(root, kernels):
    os.makedirs(os.path.join(root, "src"))
    for name, text in kernels.items():
        with open(os.path.join(root, "src", name), "w", encoding="utf-8") as f:
            f.write(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    sh("git init -q . && git add -A && git commit -q -m kernels", root, env)


def example_kernels():
    out = {}
    for name in sorted(os.listdir(os.path.join(REPO, "examples"))):
        if name.endswith(".cu"):
            out[name] = open(os.path.join(REPO, "examples", name), encoding="utf-8").read()
    assert out, "examples/*.cu"
    return out


CLEAN = "__global__ void scale(float* a, float s) {\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    a[i] *= s;\n}\nvoid launch(float* a) { scale<<<264, 256>>>(a, 2.0f); }\n"


def github_workflow(tmp):
    workflow = block("github-workflow")
    steps = workflow["jobs"]["cudalens"]["steps"]
    work = os.path.join(tmp, "workflow")
    scratch_repo(work, example_kernels())
    checkouts = [s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert len(checkouts) == 2 and checkouts[1]["with"]["path"] == ".cudalens-src", checkouts
    os.symlink(REPO, os.path.join(work, ".cudalens-src"))
    cargo_root = os.path.join(tmp, "cargo-root")
    env = dict(os.environ)
    env["PATH"] = os.path.join(cargo_root, "bin") + os.pathsep + env["PATH"]
    env["CARGO_TARGET_DIR"] = env.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    ran = []
    for step in steps:
        if "run" in step:
            cmd = step["run"].strip()
            if cmd.startswith("cargo install"):
                cmd += f" --debug --root {cargo_root}"
            p = sh(cmd, work, env, check=False)
            ran.append((step.get("name"), cmd, p))
            if cmd.startswith("cudalens check"):
                # Findings fail the step (--deny warning); cudalens itself must not fail.
                assert p.returncode in (0, 1), f"cudalens exited {p.returncode}"
                annotations = [l for l in p.stdout.splitlines() if l]
                assert annotations and all(re.match(r"^::(error|warning|notice) file=src/", l) for l in annotations), p.stdout
            else:
                assert p.returncode == 0, f"step {step.get('name')} failed"
        elif str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@"):
            assert step.get("if") == "always()", "upload even when the check step fails"
            sarif = os.path.join(work, step["with"]["sarif_file"])
            log = json.load(open(sarif, encoding="utf-8"))
            assert log["version"] == "2.1.0"
            results = log["runs"][0]["results"]
            assert results, "the examples have findings"
            for r in results:
                loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
                assert loc["uriBaseId"] == "%SRCROOT%" and os.path.isfile(os.path.join(work, loc["uri"])), loc
            print(f"upload-sarif: {sarif}: {len(results)} results")
    assert [r[0] for r in ran] == ["Install cudalens", "Analyse"], [r[0] for r in ran]
    return os.path.join(cargo_root, "bin")


def pre_commit(tmp, bin_dir):
    config = block("pre-commit-config")
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    config["repos"][0]["repo"] = REPO
    config["repos"][0]["rev"] = head
    env = dict(os.environ, PRE_COMMIT_HOME=os.path.join(tmp, "pre-commit-home"))
    env["PATH"] = bin_dir + os.pathsep + env["PATH"]
    for name, kernels, expected in [
        ("findings", example_kernels(), 1),
        ("clean", {"scale.cu": CLEAN}, 0),
    ]:
        work = os.path.join(tmp, "pre-commit-" + name)
        scratch_repo(work, kernels)
        with open(os.path.join(work, ".pre-commit-config.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f)
        p = sh("python3 -m pre_commit run --all-files", work, env, check=False)
        assert p.returncode == expected, f"pre-commit on {name} kernels exited {p.returncode}, expected {expected}"
        assert "cudalens check" in p.stdout, p.stdout
        print(f"pre-commit on {name} kernels: exit {p.returncode} as expected")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir = github_workflow(tmp)
        pre_commit(tmp, bin_dir)
    print("adoption: 2 passed, 0 failed")


if __name__ == "__main__":
    main()

"""`python -m posecoach` works the same as the `posecoach` command."""

from posecoach.cli.app import run

if __name__ == "__main__":
    run()

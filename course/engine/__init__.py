"""The training engine: data, models, the one training loop, telemetry, device choice.
Torch only: nothing here imports another part of `course`."""

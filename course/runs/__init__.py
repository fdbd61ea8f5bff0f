"""The run system: worker processes, a learner's workspace, checkpoints, and the runs panel."""

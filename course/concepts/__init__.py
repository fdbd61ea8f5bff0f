"""One lesson concept a module, torch only: what a learner could read after the lesson."""

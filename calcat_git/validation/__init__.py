"""The check registry and the checks (structure, semantic, constants): run all, report all."""

"""The engine: runs draws in chunks sharded over devices (``_run``), evaluates given parameter
sets (``_evaluate``) and checkpoints finished chunks (``_checkpoint``). Every guarantee of a run
lives here, so the command line and the Python API share it."""

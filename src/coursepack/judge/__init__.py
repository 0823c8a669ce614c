"""The judge's side of the wall: running student code without trusting it.

:mod:`.worker` starts and talks to the worker process (fresh child per call, limits,
clean-up when the grader dies); :mod:`.sandbox` decides how isolated it is (pid and
mount namespaces, an unprivileged user, or a plain process) and says so. The files in
``runtime/`` are copied into the worker's private folder and run there: they import only
the standard library, NumPy, psutil and the track's framework, never this package.
"""

# Tests of task '@@task@@' (@@points@@ points). They run in the course's judge: your
# definitions above are copied into the task's module and run in a separate, sandboxed
# process, never in this kernel.
check("@@task@@", framework="@@framework@@")
### BEGIN HIDDEN TESTS
check("@@task@@", framework="@@framework@@", hidden=True)
### END HIDDEN TESTS

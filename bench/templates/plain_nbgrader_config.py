# nbgrader's own configuration, as a course without a judge has it: autograding runs each
# submitted notebook in a kernel (nbgrader's default Execute step), and every test cell's
# output, a number, is its points.
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

HERE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "plain-kernel-baseline"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# A test cell that runs longer is interrupted (nbgrader's default), and its notebook is
# still graded: the bench sets the limit to its per-test limit times the task's tests.
c.Execute.timeout = int(os.environ.get("PLAIN_CELL_TIMEOUT", "120"))
# An interrupted cell's traceback may come after nbgrader's 4 s wait for output; without
# this, nbgrader drops the whole notebook (that student gets no grade at all).
c.Execute.raise_on_iopub_timeout = False

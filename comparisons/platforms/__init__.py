"""Where instructors grade: the platforms a graded submission is handed to.

- gradescope.py  the autograder zip (setup.sh, run_autograder), the one submission it grades,
                 and results.json written by the grading parent alone
"""

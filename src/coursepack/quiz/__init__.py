"""Pre- and post-lecture quizzes: banks, per-student draws, answer keys, the terminal
quiz and exports (curriculum quiz-app JSON, Moodle GIFT)."""

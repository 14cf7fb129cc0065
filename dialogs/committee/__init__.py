"""The committee's questions: figures answered in chat (answers.py), meetings recorded (meetings.py) and the JAC paper
(pack.py, imported only where the paper is written: it loads python-docx and matplotlib)."""

"""The classroom app's parts that do not need solara: its bilingual text (text.py), the two runs and
the model process that hosts them (runs.py, worker.py). The page itself is ../app.py."""

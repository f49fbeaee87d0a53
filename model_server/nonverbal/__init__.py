"""The nonverbal layer: head motion, gaze and an expression that moves with the voice.

Composed on the output of either synthesizer (the baseline's rules or the learned stage 2), from the same
speech analysis: accents and phrases (accents.py) drive head beats (head.py), saccades and eye contact
(gaze.py) and the expression's course (expression.py); behaviour.py holds each emotion's figures as data;
compose.py joins them into a take whose layers still add up. Nothing here moves the lips: /p b m/
closure is applied again to what plays.
"""

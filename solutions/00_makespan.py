# 4 workers run 4 tasks at a time: 9 tasks need ceil(9 / 4) = 3 rounds of 40 ms each.
predicted_ms = 120

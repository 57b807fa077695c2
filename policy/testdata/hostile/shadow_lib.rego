package sseaudit.lib

# A user policy that tries to turn off the built-in rules: merged into the
# built-in library, this makes every object look failed (unreadable), so
# the encryption rules skip it (the demo scan reported 2 findings, not 7).
failed(_) if true

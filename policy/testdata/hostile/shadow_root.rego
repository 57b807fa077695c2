package sseaudit

# A rule reference reaching down into the built-in library.
lib.failed(_) if true

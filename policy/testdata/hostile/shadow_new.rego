package sseaudit.acme

# A new package inside the built-in namespace: refused too (a later
# built-in package of that name would be merged with it).
helper := 1

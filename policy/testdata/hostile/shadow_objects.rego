package sseaudit.objects

# nothing to see
unusable_keys["x"] := "y" if false

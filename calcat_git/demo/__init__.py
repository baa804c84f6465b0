"""The demo: the embedded catalog's constant files and the replay of its history."""

"""The write mode of ``calcat-git serve``: CALCAT's write API as reviewed commits."""

"""The commit page's diff, cut per file, with LFS pointer changes recognized."""

from __future__ import annotations

from hubstead.server.services.browse import LfsChange, split_diff

OLD = "a" * 64
NEW = "b" * 64
DIFF = f"""diff --git a/train.py b/train.py
index 1111111..2222222 100644
--- a/train.py
+++ b/train.py
@@ -1,2 +1,2 @@
 def train():
-    return 1
+    return 2
diff --git a/w.bin b/w.bin
index 3333333..4444444 100644
--- a/w.bin
+++ b/w.bin
@@ -1,3 +1,3 @@
 version https://git-lfs.github.com/spec/v1
-oid sha256:{OLD}
-size 2000
+oid sha256:{NEW}
+size 3000
diff --git a/new.bin b/new.bin
new file mode 100644
index 0000000..5555555
--- /dev/null
+++ b/new.bin
@@ -0,0 +1,3 @@
+version https://git-lfs.github.com/spec/v1
+oid sha256:{NEW}
+size 3000
"""


def test_split_diff_cuts_per_file_and_reads_pointer_changes() -> None:
    parts = split_diff(DIFF)

    assert [part.path for part in parts] == ["train.py", "w.bin", "new.bin"]
    assert parts[0].lfs is None
    assert parts[0].lines == ["@@ -1,2 +1,2 @@", " def train():", "-    return 1", "+    return 2"]
    assert parts[1].lfs == LfsChange(OLD, 2000, NEW, 3000)
    assert parts[2].lfs == LfsChange(None, None, NEW, 3000)


def test_a_text_file_that_only_looks_a_bit_like_a_pointer_is_a_text_diff() -> None:
    diff = "diff --git a/n.txt b/n.txt\n--- a/n.txt\n+++ b/n.txt\n@@ -1 +1 @@\n-size 1\n+size 2\n"

    assert split_diff(diff)[0].lfs is None

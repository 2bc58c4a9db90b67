#!/usr/bin/python3
"""test_ctl - mlserverctl as an administrator uses it, on a real state.db.

import (BOM, quoting, bad rows reported by line, all or nothing), export
round trip, add/remove, --json listings, check with FILE:LINE, and
SIGHUP with a broken file leaving the running configuration in place.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)

M = MEMBER_DOMAIN


class Ctl(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port)
        self.addCleanup(self.d.close)

    def members(self, lst):
        r = self.d.ctl("--json", "members", lst)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_import_all_or_nothing(self):
        good = ("\ufeffaddress,name\r\n"
            "a@%s,山田太郎\r\n"
            "\"b@%s\",\"佐藤, 花子\"\r\n"
            "C@%s,\r\n"
            "\r\n" % (M, M, M.upper()))
        bad = good + "not-an-address,名無し\r\nd@%s,x,sometimes\r\n" % M
        r = self.d.ctl("import", "setagaya", input=bad.encode())
        self.assertEqual(r.returncode, 65)
        self.assertIn("line 6: \"not-an-address\" is not a mail address",
            r.stderr)
        self.assertIn("line 7: mode \"sometimes\"", r.stderr)
        self.assertIn("nothing imported", r.stderr)
        self.assertEqual(self.members("setagaya"), [])

        r = self.d.ctl("import", "setagaya", input=good.encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {m["address"]: m["name"] for m in self.members("setagaya")}
        self.assertEqual(got, {"a@" + M: "山田太郎", "b@" + M: "佐藤, 花子",
            "C@" + M: ""})

        # Export, then import the export into another list: the same.
        out = self.d.ctl("export", "setagaya").stdout
        self.assertIn('"佐藤, 花子"', out)
        r = self.d.ctl("import", "meguro", input=out.encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.members("meguro"), [dict(m, since=n["since"])
            for m, n in zip(self.members("setagaya"),
                self.members("meguro"))])

    def test_add_remove_lists_stats(self):
        self.assertEqual(self.d.ctl("add", "setagaya", "x@" + M,
            "名前").returncode, 0)
        self.assertEqual(self.d.ctl("add", "setagaya", "bad").returncode, 65)
        self.assertEqual(self.d.ctl("add", "nosuch", "x@" + M).returncode,
            67)
        lists = json.loads(self.d.ctl("--json", "lists").stdout)
        byname = {l["name"]: l for l in lists}
        self.assertEqual(byname["setagaya"]["members"], 1)
        self.assertEqual(byname["tokyo"]["scope"], "region:tokyo")
        self.assertEqual(byname["setagaya"]["scope"],
            "chapter:tokyo/setagaya")
        self.assertEqual(self.d.ctl("remove", "setagaya",
            "x@" + M).returncode, 0)
        self.assertEqual(self.d.ctl("remove", "setagaya",
            "x@" + M).returncode, 67)
        stats = json.loads(self.d.ctl("--json", "stats").stdout)
        self.assertEqual(stats["members"], 0)
        self.assertIn("queue_deferred", stats)

    def test_check_names_file_and_line(self):
        path = os.path.join(self.d.dir, "broken.conf")
        with open(path, "w") as f:
            f.write('domain = "lists.example.org";\nlists = (\n'
                '  { name = "a"; scope = "galaxy"; }\n);\n')
        import subprocess
        import harness
        r = subprocess.run([harness.MLSERVERCTL, "-c", path, "check"],
            capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("%s:3: unknown scope \"galaxy\"" % path, r.stderr)
        self.assertEqual(self.d.ctl("check").returncode, 0)

    def test_bad_reload_keeps_running_config(self):
        self.d.ctl("add", "meguro", "a@" + M)
        with open(self.d.conf, "a") as f:
            f.write("\nlists = ( { name = \"x\"; scope = \"nowhere\"; } );\n")
        self.d.reload()
        wait_until(lambda: "stays" in self.d.log(), 10, what="reload log")
        self.assertTrue(self.d.running())
        self.assertIn("mlserver.conf:", self.d.log())
        msg = make_message("a@" + M, "meguro@" + LIST_DOMAIN, "まだ動く", "x\n")
        r = self.d.lmtp_send(["meguro@" + LIST_DOMAIN], msg, sender="a@" + M)
        self.assertEqual(r["meguro@" + LIST_DOMAIN][0], 250)
        self.sink.wait_rcpts(1)


if __name__ == "__main__":
    unittest.main(verbosity=2)

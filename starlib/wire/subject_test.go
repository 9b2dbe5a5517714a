package wire

import "testing"

func TestClientSubject(t *testing.T) {
	for _, test := range []struct {
		subj, kind, daemon string
	}{
		{ClientResults("C1"), "r", ""},
		{ClientResultsFrom("C1", "D1"), "r", "D1"},
		{ClientOutputFrom("C1", "D1"), "o", "D1"},
		{ClientAcks("C1"), "a", ""},
		{ClientFence("C1"), "f", ""},
		{"pirun.c.C1", "", ""},
		{"pirun.c.C1.r.D1.x", "", ""},
		{DaemonTasks("D1"), "", ""},
	} {
		if kind, daemon := ClientSubject(test.subj); kind != test.kind || daemon != test.daemon {
			t.Errorf("ClientSubject(%q) = %q, %q, want %q, %q", test.subj, kind, daemon, test.kind, test.daemon)
		}
	}
}

func TestPinnedSubjects(t *testing.T) {
	for _, test := range []struct{ got, want string }{
		{RegisterFrom("D1"), "pirun.hub.register.D1"},
		{HeartbeatFrom("D1"), "pirun.hub.hb.D1"},
		{DoneFrom("D1"), "pirun.sched.done.D1"},
		{EngineInbox("D1"), "_INBOX_ENGINE.D1"},
		{ClientInbox("C1"), "_INBOX.C1"},
		{LastToken(DoneFrom("D1")), "D1"},
		{DaemonTasksFrom("D1", "C1"), "pirun.d.D1.task.C1"},
		{LastToken(DaemonTasksFrom("D1", "C1")), "C1"},
		{SubmitFrom("C1"), "pirun.sched.submit.C1"},
		{LastToken(SubmitFrom("C1")), "C1"},
	} {
		if test.got != test.want {
			t.Errorf("subject = %q, want %q", test.got, test.want)
		}
	}
}

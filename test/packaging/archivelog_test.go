package packaging

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestHelmArchiveLogKey: a signing key Secret is mounted read-only and named
// to the archive, and the origin reaches it; without one the archive
// generates its own key and no Secret is mounted.
func TestHelmArchiveLogKey(t *testing.T) {
	objs := helmTemplate(t, "vigil", "vigil-system", "archive: {log: {origin: archive.example.com/prod, signingKeySecret: vigil-archive-log-key}}")
	in := install{t: t, objs: objs}
	checkFlagsParse(t, in)
	var sts appsv1.StatefulSet
	decode(t, in.find("StatefulSet", "vigil-system", "vigil-archive"), &sts)
	c := sts.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"--log-origin=archive.example.com/prod", "--log-signing-key-file=/etc/vigil/log-key/signing.key"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("archive args %q lack %s", c.Args, want)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.Name == "log-key" && m.ReadOnly && m.MountPath == "/etc/vigil/log-key")
	}
	var secret string
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secret = v.Secret.SecretName
		}
	}
	if !mounted || secret != "vigil-archive-log-key" {
		t.Fatalf("the key Secret is not mounted read-only (mounted=%v secret=%q)", mounted, secret)
	}

	decode(t, install{t: t, objs: helmTemplate(t, "vigil", "vigil-system", "")}.find("StatefulSet", "vigil-system", "vigil-archive"), &sts)
	if slices.ContainsFunc(sts.Spec.Template.Spec.Containers[0].Args, func(a string) bool { return a == "--log-signing-key-file=/etc/vigil/log-key/signing.key" }) {
		t.Fatal("without a Secret the archive generates its key; no key file is named")
	}
	if _, err := helmTemplateErr(t, "vigil", "vigil-system", "archive: {log: {origin: \"two words\"}}"); err == nil {
		t.Fatal("an origin with spaces cannot be a note key name and must be refused")
	}
}

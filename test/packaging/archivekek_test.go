package packaging

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestHelmArchiveKEK: the key-encryption key Secret and earlier keys kept
// for rotation are mounted read-only, each under its own directory, and
// named to the archive with their ids; without a Secret the archive
// generates its own key and nothing is mounted.
func TestHelmArchiveKEK(t *testing.T) {
	values := `archive: {encryption: {kekSecret: vigil-archive-kek, kekID: kek-2, previousKEKs: [{id: kek-1, secret: vigil-archive-kek-1}]}}`
	in := install{t: t, objs: helmTemplate(t, "vigil", "vigil-system", values)}
	checkFlagsParse(t, in)
	var sts appsv1.StatefulSet
	decode(t, in.find("StatefulSet", "vigil-system", "vigil-archive"), &sts)
	c := sts.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"--kek-file=/etc/vigil/kek/current/kek", "--kek-id=kek-2", "--previous-kek=kek-1=/etc/vigil/kek/previous/kek-1/kek"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("archive args %q lack %s", c.Args, want)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly && (m.Name == "kek" || m.Name == "kek-kek-1") {
			t.Errorf("key volume %s is mounted writable", m.Name)
		}
		mounts[m.Name] = m.MountPath
	}
	secrets := map[string]string{}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = v.Secret.SecretName
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o400 {
				t.Errorf("key volume %s is not mode 0400", v.Name)
			}
		}
	}
	if mounts["kek"] != "/etc/vigil/kek/current" || secrets["kek"] != "vigil-archive-kek" ||
		mounts["kek-kek-1"] != "/etc/vigil/kek/previous/kek-1" || secrets["kek-kek-1"] != "vigil-archive-kek-1" {
		t.Fatalf("key Secrets not mounted as expected: mounts %v, secrets %v", mounts, secrets)
	}

	decode(t, install{t: t, objs: helmTemplate(t, "vigil", "vigil-system", "")}.find("StatefulSet", "vigil-system", "vigil-archive"), &sts)
	if slices.ContainsFunc(sts.Spec.Template.Spec.Containers[0].Args, func(a string) bool { return a == "--kek-file=/etc/vigil/kek/current/kek" }) {
		t.Fatal("without a Secret the archive generates its key; no key file is named")
	}
	if _, err := helmTemplateErr(t, "vigil", "vigil-system", "archive: {encryption: {previousKEKs: [{id: kek-1}]}}"); err == nil {
		t.Fatal("a previous KEK without its Secret must be refused")
	}
}

// TestHelmArchivePostgres: with store=postgres the DSN Secret is mounted
// read-only and named to the archive; without the keys every replica must
// share, the chart refuses to render.
func TestHelmArchivePostgres(t *testing.T) {
	values := `archive: {store: postgres, postgres: {dsnSecret: vigil-archive-db}, log: {signingKeySecret: vigil-archive-log-key}, encryption: {kekSecret: vigil-archive-kek}}`
	in := install{t: t, objs: helmTemplate(t, "vigil", "vigil-system", values)}
	checkFlagsParse(t, in)
	var sts appsv1.StatefulSet
	decode(t, in.find("StatefulSet", "vigil-system", "vigil-archive"), &sts)
	c := sts.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"--store=postgres", "--postgres-dsn-file=/etc/vigil/postgres/dsn", "--kek-file=/etc/vigil/kek/current/kek"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("archive args %q lack %s", c.Args, want)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.Name == "postgres-dsn" && m.ReadOnly && m.MountPath == "/etc/vigil/postgres")
	}
	if !mounted {
		t.Fatal("the DSN Secret is not mounted read-only")
	}
	if _, err := helmTemplateErr(t, "vigil", "vigil-system", `archive: {store: postgres, postgres: {dsnSecret: vigil-archive-db}}`); err == nil {
		t.Fatal("postgres without the shared keys must be refused")
	}
}

// TestHelmArchiveSegments: the S3 WORM copy is named to the archive with its
// bucket, retention and a read-only credentials Secret; without a bucket the
// chart refuses to render.
func TestHelmArchiveSegments(t *testing.T) {
	values := `archive: {segments: {mode: s3, wormRetention: 52560h, s3: {endpoint: s3.eu-west-1.amazonaws.com, bucket: acme-vigil-worm, region: eu-west-1, credentialsSecret: vigil-archive-s3}}}`
	in := install{t: t, objs: helmTemplate(t, "vigil", "vigil-system", values)}
	checkFlagsParse(t, in)
	var sts appsv1.StatefulSet
	decode(t, in.find("StatefulSet", "vigil-system", "vigil-archive"), &sts)
	c := sts.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"--segments=s3", "--s3-endpoint=s3.eu-west-1.amazonaws.com", "--s3-bucket=acme-vigil-worm",
		"--s3-region=eu-west-1", "--s3-access-key-file=/etc/vigil/s3/accessKey", "--worm-retention=52560h"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("archive args %q lack %s", c.Args, want)
		}
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "s3-credentials" && m.ReadOnly }) {
		t.Fatal("the S3 credentials are not mounted read-only")
	}
	if _, err := helmTemplateErr(t, "vigil", "vigil-system", `archive: {segments: {mode: s3}}`); err == nil {
		t.Fatal("s3 segments without a bucket must be refused")
	}
}

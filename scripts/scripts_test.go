package scripts

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

const (
	project     = "demo-proj"
	secretValue = "sk_test_NOT_A_REAL_KEY_8f3a9c"
	publishable = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
	origins     = "https://app.example.com,https://admin.example.com"
)

// deployScripts are the scripts that talk to gcloud.
var deployScripts = []string{"bootstrap.sh", "clerk-secret.sh", "deploy.sh", "pubsub.sh", "scheduler.sh", "memorystore.sh", "smoke.sh"}

func saEmail(name string) string { return name + "@" + project + ".iam.gserviceaccount.com" }

// serviceEnv replays the env-var flags of every deploy and update of the
// Cloud Run service, in order, and returns the environment it ends with.
func serviceEnv(cs calls) map[string]string {
	env := map[string]string{}
	for _, c := range cs {
		if !c.is("run", "deploy") && !c.is("run", "services", "update") {
			continue
		}
		if v, ok := c.flag("update-env-vars"); ok {
			maps.Copy(env, envVars(v))
		}
		if v, ok := c.flag("remove-env-vars"); ok {
			for _, k := range strings.Split(v, ",") {
				delete(env, k)
			}
		}
	}
	return env
}

// TestFromZero runs the whole sequence against the fake gcloud, as the README
// tells an operator to, and checks that every piece names the same URL,
// audience, service accounts, topic and secret.
func TestFromZero(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	var outputs []string
	add := func(r result) { outputs = append(outputs, r.stdout, r.stderr) }

	add(s.mustRun(t, "", env, "bootstrap.sh"))
	add(s.mustRun(t, secretValue+"\n", env, "clerk-secret.sh"))
	add(s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=us-central1-docker.pkg.dev/demo-proj/pushgate/pushgate:1",
		"--clerk-publishable-key="+publishable, "--cors-allowed-origins", origins))
	add(s.mustRun(t, "", env, "pubsub.sh"))
	add(s.mustRun(t, "", env, "scheduler.sh"))
	add(s.mustRun(t, "", env, "memorystore.sh"))
	add(s.mustRun(t, "", env, "smoke.sh"))
	cs := s.calls(t)

	runtimeSA, pushSA, schedulerSA, buildSA := saEmail("pushgate-run"), saEmail("pushgate-push"), saEmail("pushgate-scheduler"), saEmail("pushgate-build")
	agent := "serviceAccount:service-" + fakeProjectNumber + "@gcp-sa-pubsub.iam.gserviceaccount.com"
	for _, name := range []string{"pushgate-run", "pushgate-push", "pushgate-scheduler", "pushgate-build"} {
		cs.one(t, "iam", "service-accounts", "create", name)
	}

	t.Run("service environment", func(t *testing.T) {
		deploy := cs.one(t, "run", "deploy", "pushgate")
		if !deploy.has("--no-invoker-iam-check") {
			t.Errorf("deploy lacks --no-invoker-iam-check: %q", deploy)
		}
		if deploy.has("--allow-unauthenticated") || deploy.has("--invoker-iam-check") {
			t.Errorf("deploy must not touch invoker IAM otherwise: %q", deploy)
		}
		if got, _ := deploy.flag("service-account"); got != runtimeSA {
			t.Errorf("got runtime SA %q, want %q", got, runtimeSA)
		}
		if got, _ := deploy.flag("set-secrets"); got != "CLERK_SECRET_KEY=clerk-secret-key:latest" {
			t.Errorf("got --set-secrets=%q, want CLERK_SECRET_KEY=clerk-secret-key:latest", got)
		}
		got := serviceEnv(cs)
		want := map[string]string{
			"GOOGLE_CLOUD_PROJECT":     project,
			"AUTH_GOOGLE_AUDIENCES":    fakeURL,
			"PUBSUB_TOPIC":             "pushgate-events",
			"CLERK_PUBLISHABLE_KEY":    publishable,
			"CLERK_AUTHORIZED_PARTIES": origins,
			"CORS_ALLOWED_ORIGINS":     origins,
			"DEDUP_REDIS_URL":          "redis://10.20.30.40:6379/0",
		}
		if !maps.Equal(got, want) {
			t.Errorf("service environment:\n got %v\nwant %v", got, want)
		}
		// The first deploy could not know status.url: it used the
		// deterministic URL and was corrected once the URL was known.
		first := envVars(must(deploy.flag("update-env-vars")))["AUTH_GOOGLE_AUDIENCES"]
		if wantFirst := "https://pushgate-" + fakeProjectNumber + ".us-central1.run.app"; first != wantFirst {
			t.Errorf("first deploy audience %q, want %q", first, wantFirst)
		}
	})

	audiences := strings.Split(serviceEnv(cs)["AUTH_GOOGLE_AUDIENCES"], ",")
	accepts := func(aud string) bool { return slices.Contains(audiences, aud) }
	serviceProjectSA := func(email string) bool {
		return strings.HasSuffix(email, "@"+serviceEnv(cs)["GOOGLE_CLOUD_PROJECT"]+".iam.gserviceaccount.com")
	}

	t.Run("push subscription", func(t *testing.T) {
		sub := cs.one(t, "pubsub", "subscriptions", "create", "pushgate-push")
		if got, _ := sub.flag("push-endpoint"); got != fakeURL+"/pubsub/push" {
			t.Errorf("got --push-endpoint=%q, want %s/pubsub/push", got, fakeURL)
		}
		if got, _ := sub.flag("push-auth-token-audience"); !accepts(got) {
			t.Errorf("got --push-auth-token-audience=%q, which AUTH_GOOGLE_AUDIENCES=%q does not accept", got, audiences)
		}
		got, _ := sub.flag("push-auth-service-account")
		if got != pushSA || !serviceProjectSA(got) {
			t.Errorf("got --push-auth-service-account=%q, want %q of the service's project", got, pushSA)
		}
		if topic, _ := sub.flag("topic"); topic != serviceEnv(cs)["PUBSUB_TOPIC"] {
			t.Errorf("subscription topic %q, service publishes to %q", topic, serviceEnv(cs)["PUBSUB_TOPIC"])
		}
		dl, _ := sub.flag("dead-letter-topic")
		for _, f := range []string{"min-retry-delay", "max-retry-delay", "max-delivery-attempts", "ack-deadline"} {
			if _, ok := sub.flag(f); !ok {
				t.Errorf("subscription lacks --%s", f)
			}
		}
		if dl == "" || !cs.binding([]string{"pubsub", "topics"}, dl, agent, "roles/pubsub.publisher") {
			t.Errorf("Pub/Sub agent cannot publish to the dead-letter topic %q", dl)
		}
		if !cs.binding([]string{"pubsub", "subscriptions"}, "pushgate-push", agent, "roles/pubsub.subscriber") {
			t.Error("Pub/Sub agent is not a subscriber of the push subscription")
		}
		if !cs.binding([]string{"iam", "service-accounts"}, pushSA, agent, "roles/iam.serviceAccountTokenCreator") {
			t.Error("Pub/Sub agent cannot mint tokens as the push SA")
		}
	})

	t.Run("scheduler job", func(t *testing.T) {
		job := cs.one(t, "scheduler", "jobs", "create", "http", "heartbeat")
		if got, _ := job.flag("uri"); got != fakeURL+"/scheduler/heartbeat" {
			t.Errorf("got --uri=%q, want %s/scheduler/heartbeat", got, fakeURL)
		}
		if got, _ := job.flag("oidc-token-audience"); !accepts(got) {
			t.Errorf("got --oidc-token-audience=%q, which AUTH_GOOGLE_AUDIENCES=%q does not accept", got, audiences)
		}
		got, _ := job.flag("oidc-service-account-email")
		if got != schedulerSA || !serviceProjectSA(got) {
			t.Errorf("got --oidc-service-account-email=%q, want %q of the service's project", got, schedulerSA)
		}
		if got, _ := job.flag("http-method"); got != "POST" {
			t.Errorf("got --http-method=%q, want POST", got)
		}
	})

	t.Run("runtime and build IAM", func(t *testing.T) {
		member := "serviceAccount:" + runtimeSA
		if !cs.binding([]string{"pubsub", "topics"}, serviceEnv(cs)["PUBSUB_TOPIC"], member, "roles/pubsub.publisher") {
			t.Error("runtime SA cannot publish to PUBSUB_TOPIC")
		}
		if !cs.binding([]string{"secrets"}, "clerk-secret-key", member, "roles/secretmanager.secretAccessor") {
			t.Error("runtime SA cannot read the Clerk secret it mounts")
		}
		cs.one(t, "secrets", "create", "clerk-secret-key")
		build := "serviceAccount:" + buildSA
		if !cs.binding([]string{"iam", "service-accounts"}, runtimeSA, build, "roles/iam.serviceAccountUser") {
			t.Error("build SA cannot deploy as the runtime SA")
		}
		if !cs.binding([]string{"projects"}, project, build, "roles/run.admin") {
			t.Error("build SA lacks roles/run.admin")
		}
		if !cs.binding([]string{"artifacts", "repositories"}, "pushgate", build, "roles/artifactregistry.writer") {
			t.Error("build SA cannot push images")
		}
		for _, c := range cs.find("projects", "add-iam-policy-binding") {
			if m, _ := c.flag("member"); m != build {
				t.Errorf("project-wide grant to %s: %q", m, c)
			}
		}
	})

	t.Run("memorystore", func(t *testing.T) {
		create := cs.one(t, "redis", "instances", "create", "pushgate-dedup")
		for flag, want := range map[string]string{"tier": "basic", "size": "1", "region": "us-central1"} {
			if got, _ := create.flag(flag); got != want {
				t.Errorf("redis create --%s=%q, want %q", flag, got, want)
			}
		}
		update := cs.find("run", "services", "update")
		last := update[len(update)-1]
		if got, _ := last.flag("vpc-egress"); got != "private-ranges-only" {
			t.Errorf("got --vpc-egress=%q, want private-ranges-only", got)
		}
		for _, f := range []string{"network", "subnet"} {
			if _, ok := last.flag(f); !ok {
				t.Errorf("Direct VPC egress update lacks --%s", f)
			}
		}
	})

	t.Run("smoke", func(t *testing.T) {
		goCalls := readCalls(t, s.goLog)
		if len(goCalls) != 1 {
			t.Fatalf("got %d go calls, want 1", len(goCalls))
		}
		g := goCalls[0]
		if !g.has("run") || !g.has("./scripts/smoke") {
			t.Errorf("got go %q, want go run ./scripts/smoke", g)
		}
		url, _ := g.flag("url")
		aud, _ := g.flag("audience")
		if url != fakeURL || !accepts(aud) {
			t.Errorf("smoke --url=%q --audience=%q; want %s and an accepted audience", url, aud, fakeURL)
		}
	})

	t.Run("secret stays off command lines", func(t *testing.T) {
		assertNoSecret(t, s, outputs)
		got, err := os.ReadFile(s.state + "/secret-stdin")
		if err != nil || string(got) != secretValue {
			t.Errorf("gcloud got %q on stdin (%v), want the key", got, err)
		}
		add := cs.one(t, "secrets", "versions", "add", "clerk-secret-key")
		if v, _ := add.flag("data-file"); v != "-" {
			t.Errorf("secret added with --data-file=%q, want -", v)
		}
	})
}

// assertNoSecret fails if the secret is in any gcloud argv or any output.
func assertNoSecret(t *testing.T, s *sandbox, outputs []string) {
	t.Helper()
	for _, f := range []string{s.gcloudLog, s.goLog} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secretValue) || strings.Contains(string(b), "sk_test_") {
			t.Errorf("a secret key is in the argv log %s", f)
		}
	}
	for _, o := range outputs {
		if strings.Contains(o, secretValue) {
			t.Errorf("a script printed the secret key:\n%s", o)
		}
	}
}

func must(v string, ok bool) string {
	if !ok {
		return "<unset>"
	}
	return v
}

// TestDryRun runs every script with --dry-run: gcloud is never called, and
// the printed commands agree on URL, audience and service accounts.
func TestDryRun(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	printed := map[string]calls{}
	var outputs []string
	for _, script := range deployScripts {
		args := []string{"--dry-run"}
		if script == "deploy.sh" {
			args = append(args, "--via=image", "--image=img", "--clerk-publishable-key="+publishable)
		}
		r := s.mustRun(t, secretValue, env, script, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		printed[script] = printedCalls(r.stdout)
		if script != "smoke.sh" && len(printed[script]) == 0 {
			t.Errorf("%s --dry-run printed no gcloud command:\n%s", script, r.stdout)
		}
	}
	if cs := s.calls(t); len(cs) != 0 {
		t.Errorf("a dry run called gcloud:\n%s", cs)
	}
	if goCalls := readCalls(t, s.goLog); len(goCalls) != 0 {
		t.Errorf("a dry run called go: %q", goCalls)
	}
	assertNoSecret(t, s, outputs)

	// With no project number known, every script prints the same
	// placeholder URL, derived in lib.sh.
	wantURL := "https://pushgate-PROJECT_NUMBER.us-central1.run.app"
	audience := serviceEnv(printed["deploy.sh"])["AUTH_GOOGLE_AUDIENCES"]
	if audience != wantURL {
		t.Errorf("deploy AUTH_GOOGLE_AUDIENCES=%q, want %q", audience, wantURL)
	}
	sub := printed["pubsub.sh"].one(t, "pubsub", "subscriptions", "create", "pushgate-push")
	job := printed["scheduler.sh"].one(t, "scheduler", "jobs", "create", "http", "heartbeat")
	checks := []struct{ what, got, want string }{
		{"--push-auth-token-audience", must(sub.flag("push-auth-token-audience")), audience},
		{"--push-endpoint", must(sub.flag("push-endpoint")), audience + "/pubsub/push"},
		{"--push-auth-service-account", must(sub.flag("push-auth-service-account")), saEmail("pushgate-push")},
		{"--oidc-token-audience", must(job.flag("oidc-token-audience")), audience},
		{"--uri", must(job.flag("uri")), audience + "/scheduler/heartbeat"},
		{"--oidc-service-account-email", must(job.flag("oidc-service-account-email")), saEmail("pushgate-scheduler")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s=%q, want %q", c.what, c.got, c.want)
		}
	}
	deploy := printed["deploy.sh"].one(t, "run", "deploy", "pushgate")
	if !deploy.has("--no-invoker-iam-check") {
		t.Errorf("dry-run deploy lacks --no-invoker-iam-check: %q", deploy)
	}
	if !strings.Contains(strings.Join(printed["clerk-secret.sh"].one(t, "secrets", "versions", "add").words(), " "), "clerk-secret-key") {
		t.Error("clerk-secret.sh --dry-run does not print the versions add command")
	}
}

// TestDryRunWithURL: --url overrides status.url for every script alike.
func TestDryRunWithURL(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	const url = "https://pushgate-custom.example.com"
	env := []string{"PROJECT_ID=" + project, "PROJECT_NUMBER=42"}
	dep := printedCalls(s.mustRun(t, "", env, "deploy.sh", "--dry-run", "--via=source", "--url="+url+"/").stdout)
	sub := printedCalls(s.mustRun(t, "", env, "pubsub.sh", "--dry-run", "--url", url).stdout)
	job := printedCalls(s.mustRun(t, "", env, "scheduler.sh", "--dry-run", "--url="+url, "--job=nightly").stdout)
	if got := serviceEnv(dep)["AUTH_GOOGLE_AUDIENCES"]; got != url {
		t.Errorf("AUTH_GOOGLE_AUDIENCES=%q, want %q", got, url)
	}
	if got := must(sub.one(t, "pubsub", "subscriptions", "create", "pushgate-push").flag("push-auth-token-audience")); got != url {
		t.Errorf("push audience %q, want %q", got, url)
	}
	j := job.one(t, "scheduler", "jobs", "create", "http", "nightly")
	if got := must(j.flag("oidc-token-audience")); got != url {
		t.Errorf("scheduler audience %q, want %q", got, url)
	}
	if got := must(j.flag("uri")); got != url+"/scheduler/nightly" {
		t.Errorf("scheduler uri %q", got)
	}
	if len(dep.find("projects", "describe")) != 0 {
		t.Error("PROJECT_NUMBER was given, yet the project was described")
	}
	if len(s.calls(t)) != 0 {
		t.Error("a dry run called gcloud")
	}
}

// TestRerunIsIdempotent runs the sequence twice: the second time nothing is
// created again, the subscription and job are updated, and the deploy uses
// the known URL at once.
func TestRerunIsIdempotent(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	round := func() {
		s.mustRun(t, "", env, "bootstrap.sh")
		s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img")
		s.mustRun(t, "", env, "pubsub.sh")
		s.mustRun(t, "", env, "scheduler.sh")
		s.mustRun(t, "", env, "memorystore.sh")
	}
	round()
	first := len(s.calls(t))
	round()
	second := s.calls(t)[first:]
	for _, c := range second {
		if c.has("create") && !c.is("beta", "services", "identity", "create") {
			t.Errorf("second run created again: gcloud %q", c)
		}
	}
	second.one(t, "pubsub", "subscriptions", "update", "pushgate-push")
	second.one(t, "scheduler", "jobs", "update", "http", "heartbeat")
	dep := second.one(t, "run", "deploy", "pushgate")
	if got := envVars(must(dep.flag("update-env-vars")))["AUTH_GOOGLE_AUDIENCES"]; got != fakeURL {
		t.Errorf("redeploy audience %q, want the known URL %q", got, fakeURL)
	}
	for _, c := range second.find("run", "services", "update") {
		if _, ok := envVars(must(c.flag("update-env-vars")))["AUTH_GOOGLE_AUDIENCES"]; ok {
			t.Errorf("redeploy corrected the audience again: %q", c)
		}
	}
	// Google-only deploy: no half-configured Clerk provider left behind.
	if got := must(dep.flag("remove-secrets")); got != "CLERK_SECRET_KEY" {
		t.Errorf("Google-only deploy: --remove-secrets=%q, want CLERK_SECRET_KEY", got)
	}
	if env := serviceEnv(s.calls(t)); env["DEDUP_REDIS_URL"] == "" {
		t.Error("a redeploy dropped DEDUP_REDIS_URL set by memorystore.sh")
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, script := range append(slices.Clone(deployScripts), "build.sh") {
		t.Run(script, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			for _, flag := range []string{"--help", "-h"} {
				r := s.mustRun(t, "", nil, script, flag)
				if !strings.HasPrefix(r.stdout, "Usage: "+script) {
					t.Errorf("%s %s: got %q, want a usage text", script, flag, r.stdout)
				}
				want := "--dry-run"
				if script == "build.sh" {
					want = "--print"
				}
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s %s does not document %s", script, flag, want)
				}
			}
			if len(s.calls(t)) != 0 {
				t.Error("--help called gcloud")
			}
		})
	}
}

func TestRejects(t *testing.T) {
	t.Parallel()
	proj := []string{"PROJECT_ID=" + project}
	tests := []struct {
		name    string
		env     []string
		stdin   string
		script  string
		args    []string
		setup   func(t *testing.T, s *sandbox)
		wantErr string
	}{
		{"no project", nil, "", "bootstrap.sh", nil, nil, "no project"},
		{"unknown flag", proj, "", "pubsub.sh", []string{"--bogus"}, nil, "unknown argument"},
		{"flag without value", proj, "", "scheduler.sh", []string{"--job"}, nil, "needs a value"},
		{"bad project id", []string{"PROJECT_ID=Bad Project"}, "", "bootstrap.sh", nil, nil, "not a valid name"},
		{"url with a path", proj, "", "pubsub.sh", []string{"--url=https://x.run.app/pubsub/push"}, nil, "no path"},
		{"plain http url", proj, "", "scheduler.sh", []string{"--url=http://x.run.app"}, nil, "--url must be https"},
		{"bad job name", proj, "", "scheduler.sh", []string{"--url=https://x.run.app", "--job=a/b"}, nil, "job name"},
		{"not deployed yet", proj, "", "pubsub.sh", nil, nil, "not deployed"},
		{"image mode without image", proj, "", "deploy.sh", []string{"--via=image"}, nil, "needs --image"},
		{"unknown mode", proj, "", "deploy.sh", []string{"--via=ftp"}, nil, "--via must be"},
		{"secret key as publishable key", proj, "", "deploy.sh", []string{"--clerk-publishable-key=" + secretValue}, nil, "SECRET key"},
		{"secret key in origins", proj, "", "deploy.sh", []string{"--cors-allowed-origins=" + secretValue}, nil, "SECRET key"},
		{"clerk without secret value", proj, "", "deploy.sh", []string{"--via=image", "--image=img", "--clerk-publishable-key=" + publishable}, nil, "has no value yet"},
		{"bad issuer", proj, "", "deploy.sh", []string{"--clerk-issuer=clerk.example.com"}, nil, "CLERK_ISSUER must be"},
		{"empty key", proj, "", "clerk-secret.sh", nil, nil, "no key"},
		{"not a clerk key", proj, "hunter2", "clerk-secret.sh", nil, nil, "does not look like"},
		{"too few delivery attempts", append([]string{"MAX_DELIVERY_ATTEMPTS=2"}, proj...), "", "pubsub.sh", []string{"--url=https://x.run.app"}, nil, "MAX_DELIVERY_ATTEMPTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			r := s.run(t, tt.stdin, tt.env, tt.script, tt.args...)
			if r.code == 0 {
				t.Fatalf("%s %q: got exit 0, want failure\nstdout:\n%s", tt.script, tt.args, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantErr)
			}
			for _, c := range s.calls(t) {
				if !c.has("describe") {
					t.Errorf("a rejected run changed something: gcloud %q", c)
				}
			}
			if strings.Contains(r.stderr+r.stdout, secretValue) {
				t.Error("the secret key was echoed")
			}
		})
	}
}

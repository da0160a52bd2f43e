package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// nginxConfPath is the production nginx config, relative to the module
// root.
const nginxConfPath = "build/nginx/parley.conf"

// nginxProc is a running nginx serving a test copy of the production
// config.
type nginxProc struct {
	url     string // http://127.0.0.1:port
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func (ng *nginxProc) wsURL() string { return "ws" + strings.TrimPrefix(ng.url, "http") + "/ws" }

// nginxBinary finds Debian's nginx.
func nginxBinary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/nginx"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	t.Fatal("nginx not found: install nginx-light (make test does)")
	return ""
}

// startNginx renders build/nginx/parley.conf with the given nodes as its
// upstream and a free listen port, and runs nginx on it in the foreground.
func startNginx(t testing.TB, nodes []*node) *nginxProc {
	t.Helper()
	bin := nginxBinary(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(root, nginxConfPath))
	if err != nil {
		t.Fatal(err)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	rendered, err := renderNginxConf(string(conf), "127.0.0.1:"+strconv.Itoa(port), addrs)
	if err != nil {
		t.Fatalf("%s: %v", nginxConfPath, err)
	}
	dir := t.TempDir()
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "tmp", d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("parley.conf", rendered)
	mainConf := write("nginx.conf", nginxMainConf(dir))
	global := "daemon off; pid " + filepath.Join(dir, "nginx.pid") + "; error_log stderr notice;"
	args := []string{"-p", dir, "-c", mainConf, "-e", "stderr", "-g", global}

	if out, err := exec.Command(bin, append([]string{"-t", "-q"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nginx rejects %s: %v\n%s\nrendered:\n%s", nginxConfPath, err, out, rendered)
	}
	ng := &nginxProc{url: "http://127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(dir, "nginx.log"), exited: make(chan struct{})}
	logf, err := os.Create(ng.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	ng.cmd = exec.Command(bin, args...)
	ng.cmd.Stdout, ng.cmd.Stderr = logf, logf
	// SIGTERM is nginx's fast shutdown: the master stops its workers too.
	ng.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := ng.cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	go func() {
		_ = ng.cmd.Wait()
		close(ng.exited)
	}()
	t.Cleanup(func() { ng.stop(t) })
	if err := ng.waitUp(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	return ng
}

// nginxMainConf is the test's own main file around the production config:
// it keeps every path inside dir and, when the test runs as root, runs the
// workers as root so they can use dir.
func nginxMainConf(dir string) string {
	var b strings.Builder
	if os.Geteuid() == 0 {
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, `worker_processes 2;
events { worker_connections 1024; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/parley.conf;
}
`, dir)
	return b.String()
}

var (
	upstreamRe = regexp.MustCompile(`(?s)upstream\s+parley\s*\{(.*?)\}`)
	serverRe   = regexp.MustCompile(`(?m)^(\s*)server\s+\S+(\s+[^;]*)?;[^\n]*\n`)
	listenRe   = regexp.MustCompile(`(?m)^(\s*)listen\s+[^;]+;[^\n]*\n`)
)

// renderNginxConf replaces the upstream servers of conf with addrs
// (keeping the first server line's parameters) and its listen directives
// with one on listen. It refuses a config that lost what WebSockets need.
func renderNginxConf(conf, listen string, addrs []string) (string, error) {
	for _, must := range []string{
		"proxy_http_version 1.1", "$http_upgrade", "$connection_upgrade",
		"proxy_set_header Host $http_host", "proxy_read_timeout", "proxy_buffering off",
	} {
		if !strings.Contains(conf, must) {
			return "", fmt.Errorf("config lacks %q", must)
		}
	}
	up := upstreamRe.FindStringSubmatchIndex(conf)
	if up == nil {
		return "", errors.New("no `upstream parley { … }` block")
	}
	body := conf[up[2]:up[3]]
	first := serverRe.FindStringSubmatch(body)
	if first == nil {
		return "", errors.New("upstream parley lists no server")
	}
	var servers strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&servers, "%sserver %s%s;\n", first[1], a, first[2])
	}
	replaced := false
	body = serverRe.ReplaceAllStringFunc(body, func(string) string {
		if replaced {
			return ""
		}
		replaced = true
		return servers.String()
	})
	conf = conf[:up[2]] + body + conf[up[3]:]

	listens := listenRe.FindAllStringSubmatch(conf, -1)
	if len(listens) == 0 {
		return "", errors.New("no listen directive")
	}
	done := false
	conf = listenRe.ReplaceAllStringFunc(conf, func(line string) string {
		if done {
			return ""
		}
		done = true
		return listens[0][1] + "listen " + listen + ";\n"
	})
	return conf, nil
}

// waitUp polls /healthz through nginx until a node answers.
func (ng *nginxProc) waitUp(timeout time.Duration) error {
	var exited bool
	err := testenv.Poll(context.Background(), timeout, func() error {
		select {
		case <-ng.exited:
			exited = true
			return nil
		default:
		}
		resp, err := http.Get(ng.url + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz answered %d", resp.StatusCode)
		}
		return nil
	})
	switch {
	case exited:
		return fmt.Errorf("nginx exited: %s\n%s", ng.cmd.ProcessState, ng.logTail())
	case err != nil:
		return fmt.Errorf("nginx not serving: %w\n%s", err, ng.logTail())
	}
	return nil
}

func (ng *nginxProc) stop(t testing.TB) {
	_ = ng.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ng.exited:
	case <-time.After(10 * time.Second):
		_ = ng.cmd.Process.Kill()
		<-ng.exited
	}
	if t.Failed() {
		t.Logf("---- nginx log ----\n%s", ng.logTail())
	}
}

func (ng *nginxProc) logTail() string {
	b, err := os.ReadFile(ng.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// get fetches url and returns the status, content type and body.
func get(t testing.TB, url string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestNginxFrontsCluster runs nginx with build/nginx/parley.conf in front
// of two nodes: the web app and the API work through it, WebSockets from a
// browser Origin upgrade through it and spread over both nodes, users on
// different nodes see each other's messages, a cross-site Origin is still
// refused, and when a node dies its clients come back through nginx on
// the other one and recover every message.
func TestNginxFrontsCluster(t *testing.T) {
	c := startCluster(t, options{nodes: 2})
	ng := startNginx(t, c.nodes)
	const room = "hall"

	code, ctype, body := get(t, ng.url+"/")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "<html") {
		t.Errorf("GET / through nginx: %d %s %.200q", code, ctype, body)
	}
	// The nodes' metrics are not reachable through nginx.
	if code, _, body := get(t, ng.url+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "parley_") {
		t.Errorf("GET /metrics through nginx: %d %.200q, want 404", code, body)
	}
	code, ctype, body = get(t, ng.url+protocol.PathRooms)
	if code != http.StatusUnauthorized || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, protocol.ErrUnauthorized) {
		t.Errorf("GET %s without a token through nginx: %d %s %.200q", protocol.PathRooms, code, ctype, body)
	}
	names := userNames("edge", 4)
	sessions := signupAll(t, []string{ng.url}, names)
	createRooms(t, ng.url, sessions[0].AccessToken, room)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rooms, err := client.NewAPI(ng.url, nil).Rooms(ctx, sessions[1].AccessToken)
	if err != nil || !slices.ContainsFunc(rooms, func(r protocol.Room) bool { return r.Name == room }) {
		t.Fatalf("list rooms through nginx: %v %v", rooms, err)
	}

	chatters := make([]*chatter, len(names))
	onNode := make(map[string]int)
	for i, name := range names {
		chatters[i] = connect(t, ng.wsURL(), name, sessions[i].AccessToken, chatOptions{origin: ng.url})
		onNode[chatters[i].waitConnected()]++
		chatters[i].subscribe(room)
	}
	if len(onNode) != len(c.nodes) {
		t.Fatalf("nginx sent the WebSockets to %v, want every node", onNode)
	}
	for _, ch := range chatters {
		for k := range 5 {
			ch.send(room, fmt.Sprintf("%s via nginx %d", ch.name, k))
		}
	}
	checkComplete(t, chatters, room, 20, chatters[0])

	// The Origin check still works behind the proxy.
	_, resp, err := websocket.Dial(ctx, ng.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://elsewhere.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site handshake through nginx: %v (response %v), want 403", err, resp)
	}

	// Failover: node2 dies; its clients reconnect through nginx to node1.
	dead := c.nodes[1]
	dead.Kill()
	for _, ch := range chatters {
		testenv.Eventually(t, waitTimeout, ch.name+" back through nginx", func() error {
			nodes, _ := ch.connections()
			if last := nodes[len(nodes)-1]; last == dead.ID || !ch.c.Connected() {
				return fmt.Errorf("not reconnected to a live node (connections %v)", nodes)
			}
			return nil
		})
		for k := range 5 {
			ch.send(room, fmt.Sprintf("%s after failover %d", ch.name, k))
		}
	}
	checkComplete(t, chatters, room, 40, chatters[0])
}

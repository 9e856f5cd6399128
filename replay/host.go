package replay

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/wfp"
)

// HostFile is the YAML form of a host (the stack's host model):
//
//	name: workstation
//	forwarding: false            # route packets for other hosts through IPFORWARD
//	drives: {"C:": '\device\harddiskvolume3'}
//	interfaces:
//	  - index: 7
//	    name: Ethernet
//	    type: ethernet           # ethernet, wifi, loopback, tunnel or an IF_TYPE number
//	    mac: 00-15-5d-01-02-03
//	    luid: 0x0006000000000007 # optional; derived from type and index
//	    addresses: [192.168.1.20/24, 'fe80::20/64']
//	processes:
//	  - pid: 4120
//	    image: 'C:\Program Files\Mozilla Firefox\firefox.exe'
//	    user: S-1-5-21-1004336348-1177238915-682003330-1001
//	    groups: [S-1-5-32-545]
//	    sockets:
//	      - {protocol: tcp, local: '0.0.0.0:443', listen: true}
//	      - {protocol: udp, local: '0.0.0.0:5353'}
type HostFile struct {
	Name       string            `yaml:"name"`
	Forwarding bool              `yaml:"forwarding"`
	Drives     map[string]string `yaml:"drives"`
	Interfaces []struct {
		Index     uint32   `yaml:"index"`
		Name      string   `yaml:"name"`
		Type      string   `yaml:"type"`
		MAC       string   `yaml:"mac"`
		LUID      string   `yaml:"luid"`
		Addresses []string `yaml:"addresses"`
	} `yaml:"interfaces"`
	Processes []struct {
		PID     uint64   `yaml:"pid"`
		Image   string   `yaml:"image"`
		User    string   `yaml:"user"`
		Groups  []string `yaml:"groups"`
		Sockets []struct {
			Protocol string `yaml:"protocol"`
			Local    string `yaml:"local"`
			Listen   bool   `yaml:"listen"`
		} `yaml:"sockets"`
	} `yaml:"processes"`
}

// LoadHost reads a host file. Errors name the file, the line when the YAML is
// malformed, and the entry that is wrong.
func LoadHost(name string) (*engine.Host, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("replay: host file: %w", err)
	}
	return ParseHost(name, data)
}

// ParseHost reads a host file's content.
func ParseHost(name string, data []byte) (*engine.Host, error) {
	var hf HostFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&hf); err != nil {
		// One line per problem, each naming the file: "h.yaml: line 1: field x not found".
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "yaml: "), "unmarshal errors:\n  ")
		msg = yamlTypeError.ReplaceAllStringFunc(msg, describeTypeError)
		msg = strings.ReplaceAll(msg, "\n  ", "; "+name+": ")
		return nil, fmt.Errorf("replay: host file %s: %s", name, msg)
	}
	bad := func(path, format string, a ...any) error {
		return fmt.Errorf("replay: host file %s: %s: %s", name, path, fmt.Sprintf(format, a...))
	}
	h := &engine.Host{Name: hf.Name, Forwarding: hf.Forwarding, Drives: hf.Drives}
	for i, in := range hf.Interfaces {
		path := fmt.Sprintf("interfaces[%d]", i)
		if in.Index == 0 {
			return nil, bad(path+".index", "an interface needs a non-zero index")
		}
		iface := engine.Interface{Index: in.Index, Name: in.Name}
		switch strings.ToLower(in.Type) {
		case "", "ethernet":
			iface.Type, iface.Ethernet = engine.IfTypeEthernet, true
		case "wifi":
			iface.Type, iface.Ethernet = engine.IfTypeWiFi, true
		case "loopback":
			iface.Type = engine.IfTypeSoftwareLoopback
		case "tunnel":
			iface.Type = engine.IfTypeTunnel
		default:
			n, err := strconv.ParseUint(in.Type, 0, 32)
			if err != nil {
				return nil, bad(path+".type", "%q: want ethernet, wifi, loopback, tunnel or an IF_TYPE number", in.Type)
			}
			iface.Type, iface.Ethernet = uint32(n), n == uint64(engine.IfTypeEthernet) || n == uint64(engine.IfTypeWiFi)
		}
		if in.MAC != "" {
			mac, err := net.ParseMAC(in.MAC)
			if err != nil || len(mac) != 6 {
				return nil, bad(path+".mac", "%q: want a MAC address such as 00-15-5d-01-02-03", in.MAC)
			}
			copy(iface.MAC[:], mac)
		}
		// NET_LUID: the interface type in bits 48..63, an index below.
		iface.LUID = uint64(iface.Type)<<48 | uint64(in.Index)
		if in.LUID != "" {
			v, err := strconv.ParseUint(in.LUID, 0, 64)
			if err != nil {
				return nil, bad(path+".luid", "%q: want a 64-bit number", in.LUID)
			}
			iface.LUID = v
		}
		for j, a := range in.Addresses {
			p, err := parsePrefixOrAddr(a)
			if err != nil {
				return nil, bad(fmt.Sprintf("%s.addresses[%d]", path, j), "%q: want an address with its prefix, 192.168.1.20/24", a)
			}
			iface.Addrs = append(iface.Addrs, p)
		}
		h.Interfaces = append(h.Interfaces, iface)
	}
	for i, pr := range hf.Processes {
		path := fmt.Sprintf("processes[%d]", i)
		if pr.PID == 0 {
			return nil, bad(path+".pid", "a process needs a non-zero pid")
		}
		p := engine.Process{PID: pr.PID, Image: pr.Image}
		if pr.Image != "" {
			if _, err := wfp.AppIDPathFromFileName(pr.Image, hf.Drives); err != nil {
				return nil, bad(path+".image", "%v", err)
			}
		}
		if pr.User != "" {
			sid, err := wfp.ParseSID(pr.User)
			if err != nil {
				return nil, bad(path+".user", "%q: want a SID such as S-1-5-18", pr.User)
			}
			p.User = sid
		}
		for j, g := range pr.Groups {
			sid, err := wfp.ParseSID(g)
			if err != nil {
				return nil, bad(fmt.Sprintf("%s.groups[%d]", path, j), "%q: want a SID", g)
			}
			p.Groups = append(p.Groups, sid)
		}
		h.Processes = append(h.Processes, p)
		for j, s := range pr.Sockets {
			spath := fmt.Sprintf("%s.sockets[%d]", path, j)
			proto, ok := protocolNumber(s.Protocol)
			if !ok {
				return nil, bad(spath+".protocol", "%q: want tcp, udp, icmp, icmpv6 or a number", s.Protocol)
			}
			ap, err := netip.ParseAddrPort(s.Local)
			if err != nil {
				return nil, bad(spath+".local", "%q: want address:port, 0.0.0.0:443 or [::]:443", s.Local)
			}
			if s.Listen && proto != 6 {
				return nil, bad(spath+".listen", "only TCP sockets listen")
			}
			h.Sockets = append(h.Sockets, engine.Socket{Protocol: proto, Local: ap, PID: pr.PID, Listen: s.Listen})
		}
	}
	return h, nil
}

func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func protocolNumber(s string) (uint8, bool) {
	switch strings.ToLower(s) {
	case "tcp":
		return 6, true
	case "udp":
		return 17, true
	case "icmp":
		return 1, true
	case "icmpv6":
		return 58, true
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return uint8(n), err == nil
}

// yamlTypeError matches yaml.v3's "cannot unmarshal !!int `7` into []struct {...}",
// whose Go type means nothing to the author of a host file.
var yamlTypeError = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into ([^\\n]*)")

func describeTypeError(s string) string {
	m := yamlTypeError.FindStringSubmatch(s)
	want := "another kind of value"
	switch t := m[3]; {
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "struct"), strings.HasPrefix(t, "map"), strings.HasPrefix(t, "replay."):
		want = "a mapping (key: value)"
	case t == "string":
		want = "text"
	case t == "bool":
		want = "true or false"
	case strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "int"):
		want = "a number"
	}
	found := map[string]string{"seq": "a list", "map": "a mapping", "int": "a number", "str": "text", "bool": "a boolean", "float": "a number"}[m[1]]
	if found == "" {
		found = m[1]
	}
	if m[2] != "" {
		found += fmt.Sprintf(" (%s)", m[2])
	}
	return fmt.Sprintf("found %s, want %s", found, want)
}

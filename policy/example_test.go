package policy_test

import (
	"fmt"

	"github.com/wfpsim/wfpsim/policy"
)

func Example() {
	doc, err := policy.Parse("policy.yaml", []byte(`version: 1
filters:
  - name: block-http
    layer: ALE_AUTH_CONNECT_V4
    action: block
    conditions:
      - {field: IP_REMOTE_PORT, value: 80}
      - {field: IP_PROTOCOL, value: tcp}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	objs, err := doc.Objects()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range objs.Filters {
		fmt.Println(f.DisplayData.Name, f.Action.Type.ShortName(), len(f.Conditions), "conditions")
	}

	fmt.Println(policy.Check("bad.yaml", []byte(`version: 1
filters:
  - name: f
    layer: ALE_AUTH_CONNECT_V4
    action: block
    conditions:
      - {field: IP_REMOTE_PORT, value: http}
`)))
	// Output:
	// block-http block 2 conditions
	// bad.yaml:7:40: filters[0].conditions[0].value: "http" is not a valid FWP_UINT16 value: want an unsigned 16-bit integer (FWP_E_TYPE_MISMATCH)
}

package layers_test

import (
	"fmt"

	"github.com/wfpsim/wfpsim/layers"
)

func ExampleLayerByName() {
	l, ok := layers.LayerByName("ale_auth_connect_v4")
	if !ok {
		return
	}
	fmt.Println(l, l.Key, l.ID)
	for _, f := range l.Fields[:3] {
		fmt.Println(f.Index, f.Condition.ShortName, f.Type)
	}
	// Output:
	// FWPM_LAYER_ALE_AUTH_CONNECT_V4 c38d57d1-05a7-4c33-904f-7fbceee60e82 48
	// 0 ALE_APP_ID FWP_BYTE_BLOB_TYPE
	// 1 ALE_USER_ID FWP_TOKEN_ACCESS_INFORMATION_TYPE
	// 2 IP_LOCAL_ADDRESS FWP_UINT32
}

// A program outside the repository that uses the Go SDK: `nox -s release` copies it into a fresh module, adds the
// SDK the ways sdks/go/README.md describes (dist/goproxy, go mod edit -replace), builds and runs it.
package main

import (
	"fmt"
	"os"
	"time"

	triggers "github.com/zapier/triggers-sdk-go"
	"github.com/zapier/triggers-sdk-go/option"
	"github.com/zapier/triggers-sdk-go/webhooks"
)

func main() {
	client := triggers.NewClient(option.WithAPIKey("tk_consumer"), option.WithBaseURL("http://consumer.test/v1"))
	signature, err := webhooks.New("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").
		Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || client == nil || signature != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		fmt.Fprintln(os.Stderr, "go consumer: unexpected signature", signature, err)
		os.Exit(1)
	}
	fmt.Println("go consumer ok")
}

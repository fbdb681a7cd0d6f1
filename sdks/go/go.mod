module github.com/zapier/triggers-sdk-go

go 1.23

require (
	github.com/coder/websocket v1.8.15
	github.com/google/uuid v1.6.0
	github.com/oapi-codegen/runtime v1.1.2
)

require github.com/apapsch/go-jsonmerge/v2 v2.0.0 // indirect

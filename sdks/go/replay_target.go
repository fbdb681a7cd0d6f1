package triggers

// ReplayTarget is a discriminated union (kind = subscription | inbox | all); these constructors build
// each variant without the generated From*/As* ceremony. Read one with ReplayTarget.ValueByDiscriminator.

// ReplayToInbox targets the pull inbox.
func ReplayToInbox() ReplayTarget {
	var t ReplayTarget
	_ = t.FromInboxReplayTarget(InboxReplayTarget{Kind: InboxReplayTargetKindInbox})
	return t
}

// ReplayToSubscription targets one subscription's webhook.
func ReplayToSubscription(subscriptionID string) ReplayTarget {
	var t ReplayTarget
	_ = t.FromSubscriptionReplayTarget(SubscriptionReplayTarget{Kind: SubscriptionReplayTargetKindSubscription, SubscriptionID: subscriptionID})
	return t
}

// ReplayToAll targets the inbox and every matching subscription.
func ReplayToAll() ReplayTarget {
	var t ReplayTarget
	_ = t.FromAllReplayTarget(AllReplayTarget{Kind: AllReplayTargetKindAll})
	return t
}

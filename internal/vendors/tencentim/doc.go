// Package tencentim manages Tencent Cloud IM ("Chat") groups through the REST API
// v4 (group_open_http_svc).
//
// Every call is a POST to
//
//	{endpoint}/v4/group_open_http_svc/{command}?sdkappid=…&identifier=…&usersig=…&random=…&contenttype=json
//
// with a JSON body. The answer is always HTTP 200 (except for network faults); the
// outcome is the body's ActionStatus/ErrorCode envelope. The endpoint must be the
// domain of the app's data centre (console.tim.qq.com, adminapisgp.im.qcloud.com,
// …); another region answers 70020.
//
// Authentication is a UserSig (TLSSigAPIv2) signed with the app's secret key for the
// App admin account (the provider's adminIdentifier). It is reused until close to
// expiry, regenerated when the vendor says it expired (70001), and never appears in
// an error: it travels in the query string, which Go's url.Error would print.
//
// Group IDs are caller-chosen: unless spec.tencentIM.groupID is set, the GroupId is
// derived from the ChatGroup's UID, so a create retried after a lost response meets
// the group it made (10021/10025) and adopts it instead of making a second one.
//
// References: https://www.tencentcloud.com/document/product/1047/34620 (REST
// overview), https://www.tencentcloud.com/document/product/1047/34895 (create_group),
// https://trtc.io/document/34961 (get_group_info), https://trtc.io/document/34921
// (add_group_member), https://trtc.io/document/34949 (delete_group_member),
// https://cloud.tencent.com/document/product/269/1671 (error codes), and
// ../shared/docs/vendor-apis.md §2.
package tencentim

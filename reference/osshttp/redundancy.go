package osshttp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
)

// Data redundancy. A bucket is LRS unless PutBucket asked for ZRS or a
// redundancy transition moved it there; the type is kept with the bucket
// (configuration "redundancy", absent = LRS) and reported by
// GetBucketInfo. It changes nothing else: the reference has one copy of
// everything, on one disk.
//
// Redundancy transitions (?redundancyTransition): Create (POST, with
// x-oss-target-redundancy-type ZRS; OSS converts LRS to ZRS only, so a
// ZRS bucket or another target is 400 InvalidArgument, and a bucket with a
// task already is 409 BucketDataRedundancyTransitionTaskAlreadyExist),
// Get and Delete (x-oss-redundancy-transition-taskid; another id is 404
// NoSuchBucketDataRedundancyTransition), List for a bucket, and
// ListUserDataRedundancyTransition on the service. With nothing to copy,
// a task finishes as it is created: Status Finished, 100%, and the bucket
// is ZRS from then on. A bucket keeps its one task until it is deleted.

const (
	redundancyLRS        = "LRS"
	redundancyZRS        = "ZRS"
	configRedundancy     = "redundancy"
	configRedundancyTask = "redundancytransition"
	hTargetRedundancy    = "x-oss-target-redundancy-type"
	hRedundancyTaskID    = "x-oss-redundancy-transition-taskid"
)

type xmlRedundancyTask struct {
	XMLName                xml.Name `xml:"BucketDataRedundancyTransition"`
	Bucket                 string   `xml:"Bucket"`
	TaskID                 string   `xml:"TaskId"`
	Status                 string   `xml:"Status"`
	CreateTime             string   `xml:"CreateTime"`
	StartTime              string   `xml:"StartTime"`
	EndTime                string   `xml:"EndTime"`
	ProcessPercentage      int      `xml:"ProcessPercentage"`
	EstimatedRemainingTime int      `xml:"EstimatedRemainingTime"`
}

type xmlRedundancyTaskList struct {
	XMLName     xml.Name            `xml:"ListBucketDataRedundancyTransition"`
	IsTruncated bool                `xml:"IsTruncated"`
	Tasks       []xmlRedundancyTask `xml:"BucketDataRedundancyTransition"`
}

func (h *handler) setRedundancy(req *request, t string) *ossError {
	if err := h.cfg.Store.PutBucketConfig(req.ctx(), req.principal, req.res.bucket, configRedundancy, []byte(t)); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	return nil
}

// redundancy is the bucket's data redundancy type.
func (h *handler) redundancy(req *request, bucket string) (string, *ossError) {
	doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, bucket, configRedundancy)
	if err != nil {
		return "", fromStore(err, bucket, "")
	}
	if string(doc) == redundancyZRS {
		return redundancyZRS, nil
	}
	return redundancyLRS, nil
}

func (h *handler) redundancyTask(req *request, bucket string) (*xmlRedundancyTask, *ossError) {
	doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, bucket, configRedundancyTask)
	if err != nil {
		return nil, fromStore(err, bucket, "")
	}
	if doc == nil {
		return nil, nil
	}
	var t xmlRedundancyTask
	if err := xml.Unmarshal(doc, &t); err != nil {
		return nil, errInternal()
	}
	return &t, nil
}

func errNoSuchRedundancyTask() *ossError {
	return newErr(http.StatusNotFound, "NoSuchBucketDataRedundancyTransition", "The specified data redundancy transition task does not exist.")
}

// serveRedundancyTransition answers ?redundancyTransition on a bucket.
func (h *handler) serveRedundancyTransition(req *request) *ossError {
	b := req.res.bucket
	switch req.r.Method {
	case http.MethodPost:
		req.op = "CreateBucketDataRedundancyTransition"
	case http.MethodGet:
		req.op = "GetBucketDataRedundancyTransition"
		if !has(req.q, hRedundancyTaskID) {
			req.op = "ListBucketDataRedundancyTransition"
		}
	case http.MethodDelete:
		req.op = "DeleteBucketDataRedundancyTransition"
	default:
		return errMethodNotAllowed("GET, POST, DELETE")
	}
	if e := h.policyCheck(req); e != nil {
		return e
	}
	task, e := h.redundancyTask(req, b)
	if e != nil {
		return e
	}
	switch req.op {
	case "ListBucketDataRedundancyTransition":
		out := xmlRedundancyTaskList{}
		if task != nil {
			out.Tasks = append(out.Tasks, *task)
		}
		return h.reply(req, out)
	case "GetBucketDataRedundancyTransition", "DeleteBucketDataRedundancyTransition":
		if task == nil || task.TaskID != req.q.Get(hRedundancyTaskID) {
			return errNoSuchRedundancyTask()
		}
		if req.op == "GetBucketDataRedundancyTransition" {
			return h.reply(req, task)
		}
		if err := h.cfg.Store.DeleteBucketConfig(req.ctx(), req.principal, b, configRedundancyTask); err != nil {
			return fromStore(err, b, "")
		}
		writeEmpty(req.w, http.StatusNoContent)
		return nil
	}
	target := req.q.Get(hTargetRedundancy)
	if target != redundancyZRS {
		return errInvalidArgument("The target redundancy type must be ZRS (OSS converts LRS buckets to ZRS only).").
			with("ArgumentName", hTargetRedundancy).with("ArgumentValue", target)
	}
	cur, e := h.redundancy(req, b)
	if e != nil {
		return e
	}
	if task != nil {
		return newErr(http.StatusConflict, "BucketDataRedundancyTransitionTaskAlreadyExist", "The bucket already has a data redundancy transition task.")
	}
	if cur == redundancyZRS {
		return errInvalidArgument("The bucket is already ZRS.").with("ArgumentName", hTargetRedundancy)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	now := ossTime(h.cfg.Clock.Now())
	t := xmlRedundancyTask{Bucket: b, TaskID: hex.EncodeToString(id[:]), Status: "Finished",
		CreateTime: now, StartTime: now, EndTime: now, ProcessPercentage: 100}
	doc, e := keep(t)
	if e != nil {
		return e
	}
	if e := h.setRedundancy(req, redundancyZRS); e != nil {
		return e
	}
	if err := h.cfg.Store.PutBucketConfig(req.ctx(), req.principal, b, configRedundancyTask, doc); err != nil {
		return fromStore(err, b, "")
	}
	return h.reply(req, t)
}

// listUserRedundancyTransitions is GET /?redundancyTransition: the tasks
// of every bucket the principal may read.
func (h *handler) listUserRedundancyTransitions(req *request) *ossError {
	req.op = "ListUserDataRedundancyTransition"
	all, err := h.cfg.Store.ListBuckets(req.ctx(), req.principal)
	if err != nil {
		return fromStore(err, "", "")
	}
	out := xmlRedundancyTaskList{}
	for _, b := range all {
		t, e := h.redundancyTask(req, b.Name)
		if e != nil {
			if e.Code == CodeNoSuchBucket {
				continue // deleted meanwhile
			}
			return e
		}
		if t != nil {
			out.Tasks = append(out.Tasks, *t)
		}
	}
	return h.reply(req, out)
}

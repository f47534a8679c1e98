package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// applyManifest creates or updates every ClusterRole / ClusterRoleBinding of a
// multi-document YAML manifest (the only kinds the bootstrap manifest holds).
func applyManifest(ctx context.Context, cfg *rest.Config, manifest []byte) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return err
		}
		switch meta.Kind {
		case "":
			continue
		case "ClusterRoleBinding":
			var obj rbacv1.ClusterRoleBinding
			if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
				return err
			}
			api := cs.RbacV1().ClusterRoleBindings()
			cur, err := api.Get(ctx, obj.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				_, err = api.Create(ctx, &obj, metav1.CreateOptions{})
			case err == nil:
				if cur.RoleRef != obj.RoleRef { // roleRef is immutable
					if err = api.Delete(ctx, obj.Name, metav1.DeleteOptions{}); err == nil {
						_, err = api.Create(ctx, &obj, metav1.CreateOptions{})
					}
				} else {
					cur.Subjects, cur.Labels, cur.Annotations = obj.Subjects, obj.Labels, obj.Annotations
					_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
				}
			}
			if err != nil {
				return fmt.Errorf("ClusterRoleBinding %s: %w", obj.Name, err)
			}
		case "ClusterRole":
			var obj rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
				return err
			}
			api := cs.RbacV1().ClusterRoles()
			cur, err := api.Get(ctx, obj.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				_, err = api.Create(ctx, &obj, metav1.CreateOptions{})
			case err == nil:
				cur.Rules, cur.Labels, cur.Annotations, cur.AggregationRule = obj.Rules, obj.Labels, obj.Annotations, obj.AggregationRule
				_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
			}
			if err != nil {
				return fmt.Errorf("ClusterRole %s: %w", obj.Name, err)
			}
		default:
			return fmt.Errorf("bootstrap manifest: unsupported kind %q", meta.Kind)
		}
	}
}

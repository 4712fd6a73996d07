import { AutoComplete, Button, Col, Form, Input, Radio, Row, Select, type FormInstance } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import type { Customer, CustomerInput } from '../api';
import { useT } from '../i18n';

export const DISTRICTS = ['海曙区', '江北区', '鄞州区', '北仑区', '镇海区'];

export const CUSTOMER_FIELDS: (keyof CustomerInput)[] = [
  'customer_no',
  'name',
  'phones',
  'address',
  'district',
  'service_type',
  'meter_no',
  'notice_preference',
  'fax',
  'email',
  'language',
  'remarks',
];

export interface CustomerFormValues {
  customer_no: string;
  name: string;
  phones: string[];
  address: string;
  district: string;
  service_type: 'bottled' | 'pipeline';
  meter_no?: string;
  notice_preference: 'voice' | 'fax' | 'sms' | 'email';
  fax?: string;
  email?: string;
  language: 'zh-CN' | 'en';
  remarks?: string;
}

export const NEW_CUSTOMER_DEFAULTS: Partial<CustomerFormValues> = {
  phones: [''],
  service_type: 'pipeline',
  notice_preference: 'sms',
  language: 'zh-CN',
};

export function customerToForm(c: Customer): CustomerFormValues {
  return {
    customer_no: c.customer_no,
    name: c.name,
    phones: c.phones.length ? [...c.phones] : [''],
    address: c.address,
    district: c.district,
    service_type: c.service_type,
    meter_no: c.meter_no ?? undefined,
    notice_preference: c.notice_preference,
    fax: c.fax ?? undefined,
    email: c.email ?? undefined,
    language: c.language,
    remarks: c.remarks ?? undefined,
  };
}

const opt = (s: string | undefined) => {
  const v = (s ?? '').trim();
  return v === '' ? undefined : v;
};

/** Form values → the API's CustomerInput (empty optional fields left out). */
export function formToInput(v: CustomerFormValues): CustomerInput {
  const out: CustomerInput = {
    customer_no: (v.customer_no ?? '').trim(),
    name: v.name ?? '',
    phones: (v.phones ?? []).map((p) => (p ?? '').trim()).filter((p) => p !== ''),
    address: v.address ?? '',
    district: (v.district ?? '').trim(),
    service_type: v.service_type,
    notice_preference: v.notice_preference,
    language: v.language,
  };
  const meter = opt(v.meter_no);
  if (meter !== undefined) out.meter_no = meter;
  const fax = opt(v.fax);
  if (fax !== undefined) out.fax = fax;
  const email = opt(v.email);
  if (email !== undefined) out.email = email;
  if (v.remarks !== undefined && v.remarks.trim() !== '') out.remarks = v.remarks;
  return out;
}

/** Only the fields that changed, for PATCH; a cleared optional field is sent as null. */
export function diffInput(before: Customer, v: CustomerFormValues): Partial<CustomerInput> {
  const next = formToInput(v);
  const patch: Record<string, unknown> = {};
  for (const k of CUSTOMER_FIELDS) {
    const a = (before as unknown as Record<string, unknown>)[k] ?? null;
    const b = (next as unknown as Record<string, unknown>)[k] ?? null;
    if (JSON.stringify(a) !== JSON.stringify(b)) patch[k] = b;
  }
  return patch as Partial<CustomerInput>;
}

export function CustomerForm({ form, editing }: { form: FormInstance<CustomerFormValues>; editing?: boolean }) {
  const t = useT();
  const req = [{ required: true, message: t('common.required') }];
  return (
    <Form form={form} layout="vertical" initialValues={NEW_CUSTOMER_DEFAULTS} data-testid="customer-form" requiredMark>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="customer_no" label={t('cust.no')} rules={req}>
            <Input data-testid="cf-customer_no" disabled={editing} maxLength={20} />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="name" label={t('cust.name')} rules={req}>
            <Input data-testid="cf-name" maxLength={60} />
          </Form.Item>
        </Col>
      </Row>
      <Form.List name="phones">
        {(fields, { add, remove }, { errors }) => (
          <Form.Item label={t('cust.phones')} required>
            {fields.map((field, idx) => (
              <div key={field.key} style={{ display: 'flex', gap: 8, alignItems: 'flex-start' }}>
                <Form.Item {...field} style={{ flex: 1, marginBottom: 8 }} rules={idx === 0 ? req : []}>
                  <Input data-testid={`cf-phone-${idx}`} />
                </Form.Item>
                {fields.length > 1 ? (
                  <Button type="text" icon={<MinusCircleOutlined />} onClick={() => remove(field.name)} style={{ marginTop: 0 }} />
                ) : null}
              </div>
            ))}
            <Button type="dashed" onClick={() => add('')} icon={<PlusOutlined />} size="small" data-testid="cf-add-phone">
              {t('cust.addPhone')}
            </Button>
            <Form.ErrorList errors={errors} />
          </Form.Item>
        )}
      </Form.List>
      <Form.Item name="address" label={t('cust.address')} rules={req}>
        <Input data-testid="cf-address" maxLength={200} />
      </Form.Item>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="district" label={t('cust.district')} rules={req}>
            <AutoComplete options={DISTRICTS.map((d) => ({ value: d }))} data-testid="cf-district">
              <Input maxLength={20} />
            </AutoComplete>
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="service_type" label={t('cust.serviceType')} rules={req}>
            <Radio.Group data-testid="cf-service_type">
              <Radio.Button value="bottled">{t('st.bottled')}</Radio.Button>
              <Radio.Button value="pipeline">{t('st.pipeline')}</Radio.Button>
            </Radio.Group>
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item name="meter_no" label={t('cust.meterNo')}>
            <Input data-testid="cf-meter_no" maxLength={32} />
          </Form.Item>
        </Col>
        <Col xs={24} md={12}>
          <Form.Item name="notice_preference" label={t('cust.notice')} rules={req}>
            <Select
              data-testid="cf-notice_preference"
              options={(['voice', 'sms', 'email', 'fax'] as const).map((v) => ({ value: v, label: t(`np.${v}`) }))}
            />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="fax" label={t('cust.fax')}>
            <Input data-testid="cf-fax" />
          </Form.Item>
        </Col>
        <Col xs={24} md={10}>
          <Form.Item name="email" label={t('cust.email')}>
            <Input data-testid="cf-email" />
          </Form.Item>
        </Col>
        <Col xs={24} md={6}>
          <Form.Item name="language" label={t('cust.language')} rules={req}>
            <Select
              data-testid="cf-language"
              options={(['zh-CN', 'en'] as const).map((v) => ({ value: v, label: t(`lang.${v}`) }))}
            />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="remarks" label={t('cust.remarks')}>
        <Input.TextArea data-testid="cf-remarks" autoSize={{ minRows: 2, maxRows: 6 }} maxLength={500} showCount />
      </Form.Item>
    </Form>
  );
}
